// node_core: bounded mailboxes (context::limit_mailbox, try_send, send_when_room; docs/faults.md,
// "Back-pressure").
//
// A limited process counts the plain messages and requests in its mailbox (process_base::queued;
// replies, timeouts and the node's own messages such as down are never refused, so a request can always
// complete). A sender that finds it full either drops the message and reports it (send), gets
// errc::queue_full (try_send), or waits in the process's room_waiters (send_when_room): each time the
// process takes a counted message, the first waiter is granted the place (queued stays up for it) and
// told with a `room` envelope; a waiter that gives up hands a granted place on to the next.
//
// Towards other nodes the bound is the transport's (transport::has_room: its queue for that peer). A
// try_send to a full one fails, a send is given back by the transport (errc::queue_full, reported), and
// a send_when_room parks its envelope here; when the transport says there is room again
// (transport_host::room), the parked envelopes for that node are sent in the order parked, while there
// is room, and each sender is told with a `room` envelope. A sender that gives up takes its envelope
// back, unless it was sent.
#include <coactor/detail/node_core.hpp>
#include <coactor/detail/process_base.hpp>
#include <coactor/detail/router.hpp>

#include <algorithm>
#include <utility>

namespace coactor::detail {

node_core::offer_result node_core::admit_locked(process_base& p, envelope* e, process_base*& woken,
                                                bool granted) noexcept {
  const bool counted = p.mailbox_limit && (e->kind == envelope_kind::message || e->kind == envelope_kind::request);
  if (counted && !granted) {
    if (p.queued.load(std::memory_order_relaxed) >= p.mailbox_limit) return offer_result::full;
    p.queued.fetch_add(1, std::memory_order_relaxed);
  }
  e->counted = counted;
  if (push_locked(p, e, woken)) return offer_result::delivered;
  if (counted) p.queued.fetch_sub(1, std::memory_order_relaxed);
  return offer_result::gone;
}

node_core::offer_result node_core::offer(const pid& to, envelope* e, const pid* waiter, bool granted) noexcept {
  process_base* woken = nullptr;
  const offer_result r = table_.with(to.slot(), to.id(), [&](process_base* p) {
    if (!p) return offer_result::gone;
    const offer_result o = admit_locked(*p, e, woken, granted);
    if (o == offer_result::full && waiter) {
      try {
        if (!p->watch) p->watch = std::make_unique<watch_list>();
        p->watch->room_waiters.push_back(*waiter);
        p->has_room_waiters.store(true, std::memory_order_relaxed);
      } catch (...) {
      }
    }
    return o;
  });
  if (woken) sched_.schedule(*woken);
  return r;
}

pid node_core::grant_room_locked(process_base& p) noexcept {
  if (!p.watch || p.watch->room_waiters.empty()) return {};
  const pid next = p.watch->room_waiters.front();
  p.watch->room_waiters.erase(p.watch->room_waiters.begin());
  p.has_room_waiters.store(!p.watch->room_waiters.empty(), std::memory_order_relaxed);
  p.queued.fetch_add(1, std::memory_order_relaxed);  // the place is kept for `next`
  return next;
}

void node_core::send_room(const pid& waiter) noexcept {
  if (waiter.is_null()) return;
  try {
    route(waiter, make_bare_envelope(envelope_kind::room, 0));
  } catch (...) {
  }
}

void node_core::took_message(process_base& p) noexcept {
  p.queued.fetch_sub(1, std::memory_order_relaxed);
  if (!p.has_room_waiters.load(std::memory_order_relaxed)) return;
  pid next;
  table_.with(p.self.slot(), p.self.id(), [&](process_base* self) {
    if (self && self->queued.load(std::memory_order_relaxed) < self->mailbox_limit) next = grant_room_locked(*self);
  });
  send_room(next);
}

void node_core::cancel_room_wait(const pid& to, const pid& waiter) noexcept {
  pid next;
  table_.with(to.slot(), to.id(), [&](process_base* p) {
    if (!p || !p->watch) return;
    auto& waiters = p->watch->room_waiters;
    for (auto it = waiters.begin(); it != waiters.end(); ++it)
      if (*it == waiter) {
        waiters.erase(it);
        p->has_room_waiters.store(!waiters.empty(), std::memory_order_relaxed);
        return;
      }
    // Not queued any more: it was granted a place it will not use.
    p->queued.fetch_sub(1, std::memory_order_relaxed);
    next = grant_room_locked(*p);
  });
  send_room(next);
}

void node_core::limit_mailbox(process_base& p, std::uint32_t limit) noexcept {
  table_.with(p.self.slot(), p.self.id(), [&](process_base* self) {
    if (self) self->mailbox_limit = limit;
  });
}

bool node_core::has_room_for(const pid& to) const noexcept {
  return !router_ || router_->has_room(peer_ref{to.incarnation(), to.address()});
}

void node_core::park(const pid& to, envelope* e, const pid& waiter) noexcept {
  try {
    std::lock_guard lock(parked_mutex_);
    parked_.push_back({to, waiter, e});
  } catch (...) {
    return route(to, e);  // no room to park it: sent, for the transport to refuse
  }
  // Room may have come since the caller looked: nobody would say so again.
  if (has_room_for(to)) room(to.incarnation(), to.address());
}

envelope* node_core::unpark(const pid& waiter) noexcept {
  std::lock_guard lock(parked_mutex_);
  for (auto it = parked_.begin(); it != parked_.end(); ++it)
    if (it->waiter == waiter) {
      envelope* e = it->e;
      parked_.erase(it);
      return e;
    }
  return nullptr;
}

void node_core::room(std::uint64_t incarnation, std::string_view address, bool regardless) noexcept {
  for (;;) {
    parked_send next;
    {
      std::lock_guard lock(parked_mutex_);
      auto it = std::find_if(parked_.begin(), parked_.end(), [&](const parked_send& p) {
        return (incarnation != 0 && p.to.incarnation() == incarnation) || (!address.empty() && p.to.address() == address);
      });
      if (it == parked_.end()) return;
      if (!regardless && !has_room_for(it->to)) return;  // (the transport says when there is room again)
      next = *it;
      parked_.erase(it);
    }
    route(next.to, next.e);
    send_room(next.waiter);
  }
}

}  // namespace coactor::detail
