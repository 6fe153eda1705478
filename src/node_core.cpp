// node_core: the process table, the lifecycle of processes, and routing (see detail/node_core.hpp).
#include <coactor/address_book.hpp>
#include <coactor/detail/node_core.hpp>
#include <coactor/detail/process_base.hpp>
#include <coactor/detail/router.hpp>
#include <coactor/process_name.hpp>
#include <coactor/transport.hpp>

#include <exception>
#include <utility>

namespace coactor::detail {

void process_exit(process_base& p, std::exception_ptr failure) noexcept { p.node.exit(p, std::move(failure)); }

node_core::node_core(coactor::node& owner, coactor::scheduler& s, std::string name, std::uint64_t incarnation,
                     siphash_key pid_key, duration flush_timeout, bool owns_scheduler, tracer* t)
    : owner_(owner),
      sched_(s),
      name_(std::move(name)),
      incarnation_(incarnation),
      pid_key_(pid_key),
      concurrent_(!s.single_threaded()),
      table_(concurrent_),
      tracer_(t),
      flush_timeout_(flush_timeout),
      owns_scheduler_(owns_scheduler),
      errors_(name_) {}

node_core::~node_core() {
  if (flush_armed_.load()) sched_.disarm(flush_timer_);
  shutdown_transport();
  destroy_all();
}

void node_core::attach_transport(std::unique_ptr<transport> t, codec format, const decode_limits& limits,
                                 std::shared_ptr<address_book> addresses) {
  router_ = std::make_unique<router>(*this, std::move(t), format, limits, std::move(addresses));
}

result<node_address> node_core::listen(std::string_view address) {
  if (!router_) return error(errc::unreachable, "this node has no transport (node_options::transport)");
  auto bound = router_->listen(address);
  // Pids spawned from now on carry the address, so that other nodes in this OS process can route to
  // them even when they are handed over directly rather than inside a message.
  if (bound) address_index_.store(router_->addresses().intern(router_->identity().address), std::memory_order_relaxed);
  return bound;
}

std::string node_core::address() const { return router_ ? router_->identity().address : std::string(); }

node_address node_core::bound_address() const {
  auto parsed = node_address::parse(address());  // what the transport's node_address::to_string() wrote
  return parsed ? std::move(*parsed) : node_address{};
}

void node_core::idle_if_no_process() noexcept {
  if (counters_.live() == 0) start_flush_deadline();
}

void node_core::start_flush_deadline() noexcept {
  if (!router_ || !owns_scheduler_ || flush_timeout_ == duration::max() || flush_armed_.exchange(true)) return;
  flush_timer_.deadline = sched_.now() + flush_timeout_;
  flush_timer_.fire = &on_flush_deadline;
  flush_timer_.context = this;
  try {
    sched_.arm(flush_timer_);
  } catch (...) {
    flush_armed_.store(false);  // out of memory: run() waits for the transport, as without a deadline
  }
}

void node_core::on_flush_deadline(timer& t) noexcept {
  auto& n = *static_cast<node_core*>(t.context);
  n.flush_armed_.store(false);
  if (n.counters_.live() == 0) n.sched_.stop();  // a new process cancels the deadline
}

void node_core::shutdown_transport() noexcept {
  if (!router_) return;
  try {
    router_->shutdown();
  } catch (...) {
  }
}

void node_core::destroy_all() noexcept {
  table_.drain([&](process_base* p) {
    p->root.destroy();  // runs the frame's destructors: pending receives and sleeps disarm their timers
    envelope* e = p->box.close();
    while (e) destroy(std::exchange(e, e->next));
    delete p;
    counters_.process_ended();
    sched_.work_finished();
  });
}

std::uint64_t node_core::new_process_id() noexcept {
  for (;;) {
    std::uint64_t id = siphash24(pid_key_, pid_counter_.fetch_add(1, std::memory_order_relaxed));
    if (id != 0) return id;
  }
}

pid node_core::start(process_base& p, std::coroutine_handle<> root, const pid* link) {
  p.root = root;
  p.resume_point = root;
  const std::uint64_t id = new_process_id();
  if (link) {
    p.watch = std::make_unique<watch_list>();
    p.watch->links.push_back(*link);
  }
  p.self = pid(incarnation_, id, table_.insert(id, &p), address_index_.load(std::memory_order_relaxed));
  if (link) link_started(*link, p.self);
  counters_.process_started();
  sched_.work_started();
  pid self = p.self;  // p may run (and end) on another thread as soon as it is scheduled
  sched_.schedule(p);
  return self;
}

void node_core::exit(process_base& p, std::exception_ptr failure) noexcept {
  const pid self = p.self;
  table_.erase(self.slot());  // from here no sender can reach p: every push to it has completed
  if (p.registered) registry_.process_ended(self.id());  // stable now: claimed under the same table lock
  // Why it ended: an exit signal it did not trap, an exception, or its body returned.
  exit_reason why;
  std::string what;
  if (exit_reason* signalled = p.pending_exit.load(std::memory_order_acquire)) {
    why = *signalled;
  } else if (failure) {
    what = "unknown exception";
    try {
      std::rethrow_exception(failure);
    } catch (const std::exception& ex) {
      what = ex.what();
    } catch (...) {
    }
    why = exit_reason{exit_kind::exception, what};
  }
  std::uint64_t unread = 0;
  std::uint64_t stale = 0;
  for (envelope* e = p.box.close(); e;) {
    envelope* next = e->next;
    if (e->kind == envelope_kind::request)
      fail_request(e->from, e->tag, self, error(errc::dead_process, "process " + self.to_string() + " ended before replying"));
    else if (e->kind == envelope_kind::message)
      ++unread;
    else if (e->kind == envelope_kind::reply || e->kind == envelope_kind::failure)
      ++stale;  // no request is awaited any more: its request timed out, like those receive drops
    destroy(e);
    e = next;
  }
  if (stale) counters_.count_stale_replies(stale);
  if (unread) {
    counters_.count_unread_dropped(unread);
    report(error(errc::unread_messages, std::to_string(unread) + " message(s) dropped"), self);
  }
  if (failure && !p.pending_exit.load(std::memory_order_relaxed)) {
    counters_.count_failure();
    report(error(errc::exception, std::move(what)), self);
  }
  p.root.destroy();  // before the watches fire: what the body's destructors send arrives first
  fire_watches(p, why);
  delete &p;
  if (counters_.process_ended()) start_flush_deadline();
  sched_.work_finished();
}

void node_core::route(const pid& to, envelope* e) noexcept {
  if (to.is_null()) return undeliverable(to, e, error(errc::dead_process, "the null pid names no process"));
  if (!is_local(to)) {
    if (router_) return router_->send(to, e);
    return undeliverable(to, e, error(errc::unreachable, "no transport: " + to.to_string()));
  }
  process_base* woken = nullptr;
  const offer_result r = table_.with(to.slot(), to.id(), [&](process_base* p) {
    if (!p) return offer_result::gone;
    if (tracer_) tracer_->delivering(to, *e);
    return admit_locked(*p, e, woken, false);
  });
  // p was blocked in a receive, so it cannot run (nor end) until this schedule: it is safe to use here.
  if (woken) sched_.schedule(*woken);
  if (r == offer_result::gone) undeliverable(to, e, errc::dead_process);
  if (r == offer_result::full) undeliverable(to, e, error(errc::queue_full, "the mailbox of " + to.to_string() + " is full"));
}

bool node_core::push_locked(process_base& p, envelope* e, process_base*& woken) noexcept {
  switch (p.box.push(e, concurrent_)) {
    case mailbox::push_result::woke_owner:
      woken = &p;
      return true;
    case mailbox::push_result::queued:
      return true;
    case mailbox::push_result::closed:
      return false;
  }
  return false;
}

std::uint32_t node_core::address_index(std::string_view address) noexcept {
  try {
    return router_ ? router_->addresses().intern(address) : 0;
  } catch (...) {
    return 0;
  }
}

void node_core::route(const process_name& target, envelope* e) noexcept {
  if (!target.address.empty() && (!router_ || target.address != router_->identity().address)) {
    if (router_) return router_->send_to_name(target.address, target.name, e);
    return undeliverable(pid{}, e, error(errc::unreachable, "no transport: " + target.to_string()));
  }
  auto found = whereis(target.name);
  if (!found) return undeliverable(pid{}, e, error(errc::no_such_name, "'" + target.name + "'"));
  if (e->kind == envelope_kind::request && *found == e->from) {
    fail_request(e->from, e->tag, *found, error(errc::request_to_self, "'" + target.name + "' is the requester"));
    return destroy(e);
  }
  route(*found, e);
}

void node_core::route_from_outside(const pid& to, envelope* e) {
  if (concurrent_ || sched_.on_scheduler_thread()) return route(to, e);
  struct parcel {  // owns the envelope until delivered, so a post that never runs does not leak it
    envelope* e;
    explicit parcel(envelope* x) noexcept : e(x) {}
    parcel(parcel&& o) noexcept : e(std::exchange(o.e, nullptr)) {}
    parcel(const parcel& o) = delete;
    ~parcel() { destroy(e); }
  };
  auto shared = std::make_shared<parcel>(e);
  // Runs on the scheduler's thread, and a node is not destroyed while its scheduler runs: checking the
  // lifetime token there is enough.
  sched_.post([this, alive = lifetime(), to, shared] {
    if (!alive.expired()) route(to, std::exchange(shared->e, nullptr));
  });
}

result<void> node_core::register_name(std::string name, const pid& p) {
  if (!is_local(p)) return error(errc::not_local, p.to_string());
  return registry_.register_name(std::move(name), p, [&] {
    return table_.with(p.slot(), p.id(), [](process_base* proc) {
      if (!proc) return errc::dead_process;
      if (proc->registered) return errc::already_registered;
      proc->registered = true;
      return errc{};
    });
  });
}

result<void> node_core::unregister_name(std::string_view name) {
  return registry_.unregister_name(name, [&](const pid& p) {
    table_.with(p.slot(), p.id(), [](process_base* proc) {
      if (proc) proc->registered = false;
    });
  });
}

coactor::node_stats node_core::stats() const noexcept { return counters_.stats(router_ ? router_->bad_frames() : 0); }

std::vector<peer_stats> node_core::peers() const { return router_ ? router_->peers() : std::vector<peer_stats>{}; }

}  // namespace coactor::detail
