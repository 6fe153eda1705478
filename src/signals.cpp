// node_core: monitors, links, exit signals, and other nodes coming and going (see detail/watch.hpp and
// docs/faults.md).
//
// Locking: a process's watch_list changes only under its process-table stripe (process_table::with),
// so a monitor or link set up while the target is ending either lands before the target leaves the
// table (and fires when it ends) or finds it gone (noproc). remote_watches_ and node_watchers_ are
// under watch_mutex_. No lock is held while routing or sending.
#include <coactor/detail/node_core.hpp>
#include <coactor/detail/process_base.hpp>
#include <coactor/detail/router.hpp>
#include <coactor/monitor.hpp>
#include <coactor/node_events.hpp>
#include <coactor/process_name.hpp>
#include <coactor/transport.hpp>

#include <utility>
#include <vector>

namespace coactor::detail {
namespace {

watch_list& watch_of(process_base& p) {
  if (!p.watch) p.watch = std::make_unique<watch_list>();
  return *p.watch;
}

}  // namespace

// ---- setting up and cancelling ----

std::uint64_t node_core::monitor(process_base& self, const pid& target) {
  const std::uint64_t ref = monitor_counter_.fetch_add(1, std::memory_order_relaxed) + 1;
  table_.with(self.self.slot(), self.self.id(), [&](process_base* p) {
    if (p) watch_of(*p).watching.push_back({target, ref});
  });
  if (!is_local(target)) {
    add_remote_watch({self.self, target, ref});
    send_signal(self.self, target, {signal_op::monitor, exit_via::call, ref, {}});
    return ref;
  }
  const bool watching = table_.with(target.slot(), target.id(), [&](process_base* p) {
    if (!p) return false;
    watch_of(*p).watchers.push_back({self.self, ref});
    return true;
  });
  if (!watching) deliver_down(self.self, ref, target, {exit_kind::noproc, {}});
  return ref;
}

std::uint64_t node_core::monitor(process_base& self, const process_name& target) {
  if (target.address.empty() || (router_ && target.address == router_->identity().address)) {
    auto found = whereis(target.name);
    if (found) return monitor(self, *found);
    const std::uint64_t ref = monitor_counter_.fetch_add(1, std::memory_order_relaxed) + 1;
    table_.with(self.self.slot(), self.self.id(), [&](process_base* p) {
      if (p) watch_of(*p).watching.push_back({pid{}, ref});
    });
    deliver_down(self.self, ref, pid{}, {exit_kind::noproc, "no process is registered as '" + target.name + "'"});
    return ref;
  }
  // A name on another node: the signal goes to the name; the down message names the process it found.
  const std::uint64_t ref = monitor_counter_.fetch_add(1, std::memory_order_relaxed) + 1;
  table_.with(self.self.slot(), self.self.id(), [&](process_base* p) {
    if (p) watch_of(*p).watching.push_back({pid{}, ref});
  });
  envelope* e = make_envelope<signal_message>(signal_message{signal_op::monitor, exit_via::call, ref, {}});
  e->from = self.self;
  if (!router_) {
    destroy(e);
    deliver_down(self.self, ref, pid{}, {exit_kind::noconnection, "no transport: " + target.to_string()});
    return ref;
  }
  {
    std::lock_guard lock(watch_mutex_);
    name_watches_.push_back({self.self, target.address, ref});
  }
  router_->send_to_name(target.address, target.name, e);
  return ref;
}

void node_core::demonitor(process_base& self, std::uint64_t ref) {
  pid target;
  const bool held = table_.with(self.self.slot(), self.self.id(), [&](process_base* p) {
    if (!p || !p->watch) return false;
    for (const watch_entry& w : p->watch->watching)
      if (w.ref == ref) target = w.other;
    return watch_list::erase(p->watch->watching, ref);
  });
  if (held && target.is_null()) {
    drop_remote_watch(self.self, target, ref);  // a name, of another node or nobody's
  } else if (held) {
    if (is_local(target)) {
      table_.with(target.slot(), target.id(), [&](process_base* p) {
        if (p && p->watch) watch_list::erase(p->watch->watchers, ref);
      });
    } else {
      drop_remote_watch(self.self, target, ref);
      send_signal(self.self, target, {signal_op::demonitor, exit_via::call, ref, {}});
    }
  }
  // A down message already queued is removed (the process's own queue: only it touches it).
  mailbox& box = self.box;
  box.fetch(concurrent_);
  envelope* prev = nullptr;
  for (envelope* e = box.front(); e; prev = e, e = e->next)
    if (e->type == &type_of<down>() && static_cast<const down*>(e->payload())->ref.id == ref) {
      box.unlink(prev, e);
      destroy(e);
      break;
    }
}

void node_core::link(process_base& self, const pid& other) {
  if (other == self.self) return;
  table_.with(self.self.slot(), self.self.id(), [&](process_base* p) {
    if (!p) return;
    auto& links = watch_of(*p).links;
    for (const pid& l : links)
      if (l == other) return;
    links.push_back(other);
  });
  if (!is_local(other)) {
    add_remote_watch({self.self, other, 0});
    return send_signal(self.self, other, {signal_op::link, exit_via::call, 0, {}});
  }
  const bool linked = table_.with(other.slot(), other.id(), [&](process_base* p) {
    if (!p) return false;
    auto& links = watch_of(*p).links;
    for (const pid& l : links)
      if (l == self.self) return true;
    links.push_back(self.self);
    return true;
  });
  if (!linked) deliver_exit(self.self, other, {exit_kind::noproc, {}}, exit_via::link);
}

void node_core::link_started(const pid& parent, const pid& child) {
  const bool linked = table_.with(parent.slot(), parent.id(), [&](process_base* p) {
    if (!p) return false;
    watch_of(*p).links.push_back(child);
    return true;
  });
  if (!linked) deliver_exit(child, parent, {exit_kind::noproc, {}}, exit_via::link);
}

void node_core::unlink(process_base& self, const pid& other) {
  table_.with(self.self.slot(), self.self.id(), [&](process_base* p) {
    if (p && p->watch) watch_list::erase(p->watch->links, other);
  });
  if (!is_local(other)) {
    drop_remote_watch(self.self, other, 0);
    return send_signal(self.self, other, {signal_op::unlink, exit_via::call, 0, {}});
  }
  table_.with(other.slot(), other.id(), [&](process_base* p) {
    if (p && p->watch) watch_list::erase(p->watch->links, self.self);
  });
}

void node_core::send_exit(const pid& from, const pid& to, exit_reason reason, exit_via via) {
  if (to.is_null()) return;
  if (!is_local(to)) return send_signal(from, to, {signal_op::exit, via, 0, std::move(reason)});
  deliver_exit(to, from, reason, via);
}

void node_core::watch_nodes(process_base& self, bool on) {
  const bool changed = table_.with(self.self.slot(), self.self.id(), [&](process_base* p) {
    if (!p || p->watches_nodes == on) return false;
    p->watches_nodes = on;
    return true;
  });
  if (!changed) return;
  std::lock_guard lock(watch_mutex_);
  if (on)
    node_watchers_.push_back(self.self);
  else
    watch_list::erase(node_watchers_, self.self);
}

// ---- what ending does ----

void node_core::fire_watches(process_base& p, const exit_reason& why) noexcept {
  if (p.watches_nodes) {
    std::lock_guard lock(watch_mutex_);
    watch_list::erase(node_watchers_, p.self);
  }
  if (!p.watch) return;
  watch_list& w = *p.watch;
  const pid self = p.self;
  for (const pid& waiter : w.room_waiters) send_room(waiter);  // their next try finds it gone
  // Monitors it held: nobody will read their down messages.
  for (const watch_entry& m : w.watching) {
    if (m.other.is_null()) {
      drop_remote_watch(self, m.other, m.ref);
    } else if (is_local(m.other)) {
      table_.with(m.other.slot(), m.other.id(), [&](process_base* t) {
        if (t && t->watch) watch_list::erase(t->watch->watchers, m.ref);
      });
    } else {
      drop_remote_watch(self, m.other, m.ref);
      send_signal(self, m.other, {signal_op::demonitor, exit_via::call, m.ref, {}});
    }
  }
  for (const watch_entry& m : w.watchers) deliver_down(m.other, m.ref, self, why);
  for (const pid& l : w.links) {
    if (is_local(l)) {
      deliver_exit(l, self, why, exit_via::link);
    } else {
      drop_remote_watch(self, l, 0);
      send_signal(self, l, {signal_op::exit, exit_via::link, 0, why});
    }
  }
}

void node_core::deliver_down(const pid& watcher, std::uint64_t ref, const pid& target, const exit_reason& why) noexcept {
  if (!is_local(watcher)) return send_signal(target, watcher, {signal_op::down, exit_via::call, ref, why});
  envelope* e = nullptr;
  try {
    e = make_envelope<down>(down{monitor_ref{ref}, target, why});
  } catch (...) {
    return report(error(errc::stopped, "out of memory for a down message"), watcher);
  }
  e->from = target;
  process_base* woken = nullptr;
  const bool delivered = table_.with(watcher.slot(), watcher.id(), [&](process_base* p) {
    // Cancelled (demonitor) or the watcher is gone: nobody wants it.
    if (!p || !p->watch || !watch_list::erase(p->watch->watching, ref)) return false;
    return push_locked(*p, e, woken);
  });
  if (woken) sched_.schedule(*woken);
  if (!delivered) destroy(e);
}

void node_core::deliver_exit(const pid& to, const pid& from, const exit_reason& why, exit_via via) noexcept {
  envelope* e = nullptr;
  exit_reason* pending = nullptr;
  try {
    e = make_bare_envelope(envelope_kind::wake, 0);
    pending = new exit_reason(via == exit_via::kill ? exit_reason::killed() : why);
  } catch (...) {
    destroy(e);
    return report(error(errc::stopped, "out of memory for an exit signal"), to);
  }
  process_base* woken = nullptr;
  bool taken = false;
  table_.with(to.slot(), to.id(), [&](process_base* p) {
    if (!p) return;
    // A link's exit signal after an unlink is void.
    if (via == exit_via::link && (!p->watch || !watch_list::erase(p->watch->links, from))) return;
    if (via != exit_via::kill && p->trap_exits.load(std::memory_order_relaxed)) {
      destroy(std::exchange(e, nullptr));
      try {
        e = make_envelope<exit_message>(exit_message{from, why});
      } catch (...) {
        return;
      }
      e->from = from;
      taken = push_locked(*p, e, woken);
      return;
    }
    if (via != exit_via::kill && !why.abnormal()) return;  // a normal exit signal is ignored
    exit_reason* none = nullptr;
    if (!p->pending_exit.compare_exchange_strong(none, pending, std::memory_order_acq_rel)) return;
    pending = nullptr;  // the process owns it now
    taken = push_locked(*p, e, woken);  // wakes it if it waits for mail
  });
  if (woken) sched_.schedule(*woken);
  if (!taken) destroy(e);
  delete pending;
}

// ---- between nodes ----

void node_core::send_signal(const pid& from, const pid& to, signal_message s) noexcept {
  if (!router_) {
    // No way to reach `to`: what it would have answered happens here.
    signal_undeliverable(from, to, s);
    return;
  }
  envelope* e = nullptr;
  try {
    e = make_envelope<signal_message>(std::move(s));
  } catch (...) {
    return report(error(errc::stopped, "out of memory for a signal"), from);
  }
  e->from = from;
  router_->send(to, e);
}

void node_core::signal_undeliverable(const pid& from, const pid& to, const signal_message& s) noexcept {
  const exit_reason lost{exit_kind::noconnection, "cannot reach " + to.to_string()};
  switch (s.op) {
    case signal_op::monitor:
      drop_remote_watch(from, to, s.ref);
      deliver_down(from, s.ref, to, lost);
      break;
    case signal_op::link:
      drop_remote_watch(from, to, 0);
      deliver_exit(from, to, lost, exit_via::link);
      break;
    default:  // the node it was for is gone; its own end will tell the rest
      break;
  }
}

void node_core::take_signal(const pid& to, errc missing, envelope* e) noexcept {
  const signal_message s = *static_cast<const signal_message*>(e->payload());
  const pid from = e->from;
  destroy(e);
  if (missing != errc{} && s.op == signal_op::monitor)
    return send_signal(to, from, {signal_op::down, exit_via::call, s.ref, {exit_kind::noproc, {}}});
  if (missing != errc{} && s.op == signal_op::link)
    return send_signal(to, from, {signal_op::exit, exit_via::link, 0, {exit_kind::noproc, {}}});
  if (missing != errc{}) return;
  switch (s.op) {
    case signal_op::monitor: {
      const bool watching = table_.with(to.slot(), to.id(), [&](process_base* p) {
        if (!p) return false;
        watch_of(*p).watchers.push_back({from, s.ref});
        return true;
      });
      if (!watching) send_signal(to, from, {signal_op::down, exit_via::call, s.ref, {exit_kind::noproc, {}}});
      break;
    }
    case signal_op::demonitor:
      table_.with(to.slot(), to.id(), [&](process_base* p) {
        if (p && p->watch) watch_list::erase(p->watch->watchers, s.ref);
      });
      break;
    case signal_op::link: {
      const bool linked = table_.with(to.slot(), to.id(), [&](process_base* p) {
        if (!p) return false;
        auto& links = watch_of(*p).links;
        for (const pid& l : links)
          if (l == from) return true;
        links.push_back(from);
        return true;
      });
      if (linked)
        add_remote_watch({to, from, 0});
      else
        send_signal(to, from, {signal_op::exit, exit_via::link, 0, {exit_kind::noproc, {}}});
      break;
    }
    case signal_op::unlink:
      drop_remote_watch(to, from, 0);
      table_.with(to.slot(), to.id(), [&](process_base* p) {
        if (p && p->watch) watch_list::erase(p->watch->links, from);
      });
      break;
    case signal_op::exit:
      if (s.via == exit_via::link) drop_remote_watch(to, from, 0);
      deliver_exit(to, from, s.reason, s.via);
      break;
    case signal_op::down:
      drop_remote_watch(to, from, s.ref);
      deliver_down(to, s.ref, from, s.reason);
      break;
  }
}

void node_core::add_remote_watch(const remote_watch& w) {
  std::lock_guard lock(watch_mutex_);
  remote_watches_[w.remote.incarnation()].push_back(w);
}

void node_core::drop_remote_watch(const pid& local, const pid& remote, std::uint64_t ref) noexcept {
  std::lock_guard lock(watch_mutex_);
  if (ref)
    std::erase_if(name_watches_, [&](const name_watch& w) { return w.ref == ref && w.local == local; });
  auto it = remote_watches_.find(remote.incarnation());
  if (it == remote_watches_.end()) return;
  auto& v = it->second;
  for (auto& w : v)
    if (w.local == local && w.ref == ref && (ref != 0 || w.remote == remote)) {
      w = v.back();
      v.pop_back();
      break;
    }
  if (v.empty()) remote_watches_.erase(it);
}

void node_core::peer_up(const node_identity& peer) noexcept {
  std::vector<pid> watchers;
  {
    std::lock_guard lock(watch_mutex_);
    watchers = node_watchers_;
  }
  for (const pid& w : watchers) {
    try {
      envelope* e = make_envelope<node_up>(node_up{peer.incarnation, peer.address, peer.name});
      route(w, e);
    } catch (...) {
    }
  }
}

void node_core::peer_down(const node_identity& peer, const error& why) noexcept {
  room(peer.incarnation, {}, true);  // what waited for room goes, for the transport to give back
  std::vector<remote_watch> lost;
  std::vector<pid> watchers;
  {
    std::lock_guard lock(watch_mutex_);
    if (auto it = remote_watches_.find(peer.incarnation); it != remote_watches_.end()) {
      lost = std::move(it->second);
      remote_watches_.erase(it);
    }
    if (!peer.address.empty())
      std::erase_if(name_watches_, [&](const name_watch& w) {
        if (w.address != peer.address) return false;
        lost.push_back({w.local, pid{}, w.ref});
        return true;
      });
    watchers = node_watchers_;
  }
  const exit_reason reason{exit_kind::noconnection, why.message()};
  for (const remote_watch& w : lost) {
    if (w.ref)
      deliver_down(w.local, w.ref, w.remote, reason);
    else
      deliver_exit(w.local, w.remote, reason, exit_via::link);
  }
  // Requests waiting for that node fail now, not at their timeouts.
  const std::uint32_t address = peer.address.empty() ? 0 : address_index(peer.address);
  std::vector<std::pair<pid, std::uint64_t>> waiting;
  table_.for_each([&](process_base& p) {
    const std::uint64_t node = p.awaited_node.load(std::memory_order_relaxed);
    const std::uint32_t at = p.awaited_address.load(std::memory_order_relaxed);
    if ((node && node == peer.incarnation) || (address && at == address))
      waiting.emplace_back(p.self, p.awaited_tag.load(std::memory_order_relaxed));
    // Monitors that processes of that node held here will never be read.
    if (p.watch)
      std::erase_if(p.watch->watchers, [&](const watch_entry& w) { return w.other.incarnation() == peer.incarnation; });
  });
  for (auto& [requester, tag] : waiting)
    fail_request(requester, tag, pid{}, error(errc::node_down, peer.name + " (" + peer.address + "): " + why.message()));
  for (const pid& w : watchers) {
    try {
      route(w, make_envelope<node_down>(node_down{peer.incarnation, peer.address, peer.name, why.message()}));
    } catch (...) {
    }
  }
}

}  // namespace coactor::detail
