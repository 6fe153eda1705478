// coactor detail: the awaitable objects that the operations of `context` return (receive, request,
// sleep, yield_now). They live in the awaiting coroutine's frame for the length of one co_await; users
// never name them (context.hpp documents what each operation does).
#pragma once

#include <coactor/detail/envelope.hpp>
#include <coactor/detail/node_core.hpp>
#include <coactor/detail/process_base.hpp>
#include <coactor/message.hpp>
#include <coactor/pid.hpp>
#include <coactor/process_name.hpp>
#include <coactor/result.hpp>
#include <coactor/time.hpp>
#include <coactor/type_name.hpp>

#include <coroutine>
#include <string>
#include <type_traits>
#include <utility>

namespace coactor::detail {

std::string describe_timeout(duration d);

/// Suspends the current process in `w`, whose last poll() found nothing; false if `w` completed on the
/// way (resume at once).
/// A receive that ended for a pending exit signal stays suspended and is scheduled, so that its next step
/// ends the process (process_base::step) instead of resuming it.
inline bool suspend_in(receive_wait& w, std::coroutine_handle<> h) {
  process_base& p = w.process();
  p.resume_point = h;
  if (!w.exiting()) {
    p.waiting = &w;
    if (!w.block_or_poll()) return true;  // waiting: from here on another thread may run the process
    p.waiting = nullptr;
    w.finish();
    if (!w.exiting()) return false;
  }
  p.node.scheduler().schedule(p);
  return true;
}

inline bool accept_any(receive_wait&, const envelope&) { return true; }
inline bool accept_none(receive_wait&, const envelope&) { return false; }
template <class T>
bool accept_type(receive_wait&, const envelope& e) {
  return e.type == &type_of<T>();
}

/// Calls `pred` with a non-owning message view of `e`.
template <class Pred>
bool ask(Pred& pred, const envelope& e) {
  message view{const_cast<envelope*>(&e)};
  struct release_on_exit {
    message& m;
    ~release_on_exit() { m.release(); }
  } guard{view};
  return static_cast<bool>(pred(std::as_const(view)));
}

/// co_await → Value (message or received<T>): the first message `Accept` takes.
template <class Value>
class receive_awaiter : protected receive_wait {
 public:
  receive_awaiter(process_base& p, matcher m) noexcept : receive_wait(p, m) {}
  bool await_ready() { return poll() && !exiting(); }
  bool await_suspend(std::coroutine_handle<> h) { return suspend_in(*this, h); }
  Value await_resume() {
    rethrow_if_failed();
    return Value{message{take()}};
  }
};

/// co_await → result<Value>: like receive_awaiter, or errc::timeout after `timeout`.
template <class Value>
class timed_receive_awaiter : protected receive_wait {
 public:
  timed_receive_awaiter(process_base& p, matcher m, duration timeout) noexcept
      : receive_wait(p, m), timeout_(timeout) {}
  bool await_ready() {
    if (poll()) return !exiting();
    expired_ = timeout_ <= duration::zero();
    return expired_;
  }
  bool await_suspend(std::coroutine_handle<> h) {
    arm_timeout(timeout_, timer_);
    return suspend_in(*this, h);
  }
  result<Value> await_resume() {
    rethrow_if_failed();
    if (expired_ || timed_out()) return error(errc::timeout, "no message " + describe_timeout(timeout_));
    return Value{message{take()}};
  }

 private:
  duration timeout_;
  bool expired_ = false;
  timer timer_;
};

/// A receive that asks a predicate. `Pred` takes `const message&`.
template <class Value, class Pred, bool Timed>
class predicate_receive_awaiter
    : public std::conditional_t<Timed, timed_receive_awaiter<Value>, receive_awaiter<Value>> {
  using base = std::conditional_t<Timed, timed_receive_awaiter<Value>, receive_awaiter<Value>>;

 public:
  template <class... Timeout>
  predicate_receive_awaiter(process_base& p, Pred pred, Timeout... timeout)
      : base(p, &accept, timeout...), pred_(std::move(pred)) {}

 private:
  static bool accept(receive_wait& w, const envelope& e) {
    return ask(static_cast<predicate_receive_awaiter&>(w).pred_, e);
  }
  Pred pred_;
};

/// co_await → result<message>: the reply to one request.
class request_awaiter : private receive_wait {
 public:
  request_awaiter(process_base& p, const pid& to, envelope* request, duration timeout) noexcept
      : receive_wait(p, &accept_none), to_(to), request_(request), timeout_(timeout) {}
  request_awaiter(process_base& p, process_name to, envelope* request, duration timeout) noexcept
      : receive_wait(p, &accept_none), name_(std::move(to)), request_(request), timeout_(timeout) {}
  ~request_awaiter() { destroy(request_); }

  bool await_ready() {
    process_base& p = process();
    if (name_.name.empty() && to_ == p.self) {
      failure_ = errc::request_to_self;
      return true;
    }
    envelope* e = std::exchange(request_, nullptr);
    e->kind = envelope_kind::request;
    e->tag = ++p.last_tag;
    p.awaited_tag.store(e->tag, std::memory_order_relaxed);
    e->from = p.self;
    // A target known to be dead (or a name nobody holds) answers at once with a failure reply. One on
    // another node is noted, so that the request fails at once if that node goes down.
    if (name_.name.empty()) {
      if (!p.node.is_local(to_)) {
        p.awaited_node.store(to_.incarnation(), std::memory_order_relaxed);
      }
      p.node.route(to_, e);
    } else {
      if (!name_.address.empty()) {
        p.awaited_address.store(p.node.address_index(name_.address), std::memory_order_relaxed);
      }
      p.node.route(name_, e);
    }
    if (poll()) return !exiting();
    if (timeout_ <= duration::zero()) {
      failure_ = errc::timeout;
      return true;
    }
    return false;
  }
  bool await_suspend(std::coroutine_handle<> h) {
    arm_timeout(timeout_, timer_);
    return suspend_in(*this, h);
  }
  result<message> await_resume() {
    process_base& p = process();
    p.awaited_tag.store(0, std::memory_order_relaxed);
    p.awaited_node.store(0, std::memory_order_relaxed);
    p.awaited_address.store(0, std::memory_order_relaxed);
    rethrow_if_failed();
    if (timed_out()) failure_ = errc::timeout;
    switch (failure_) {
      case errc::request_to_self:
        return error(errc::request_to_self, "a process cannot request from itself: " + to_.to_string());
      case errc::timeout:
        return error(errc::timeout, "no reply from " + (name_.name.empty() ? to_.to_string() : name_.to_string()) +
                                        " " + describe_timeout(timeout_));
      default:
        break;
    }
    message reply{take()};
    if (reply.envelope()->kind == envelope_kind::failure) return std::move(reply.as<error>());
    return reply;
  }

 private:
  pid to_;
  process_name name_;  ///< the target when it is a name
  envelope* request_;
  duration timeout_;
  errc failure_{};
  timer timer_;
};

/// co_await → result<R>: the reply to one request, as an R.
template <class R>
class typed_request_awaiter : public request_awaiter {
 public:
  using request_awaiter::request_awaiter;
  result<R> await_resume() {
    result<message> r = request_awaiter::await_resume();
    if (!r) return r.error();
    if (R* value = r->get_if<R>()) return std::move(*value);
    return error(errc::bad_message, "expected a reply of type " +
                                        std::string(coactor::type_name<payload_t<R>>()) + ", got " +
                                        std::string(r->type_name()));
  }
};

/// co_await → result<void>: delivers a message to a local process, waiting while its mailbox is full
/// (context::send_when_room); to a process of another node, waiting while the transport's queue for that
/// node is full (the envelope parked on the node meanwhile: node_core::park).
class send_awaiter : private receive_wait {
 public:
  send_awaiter(process_base& p, const pid& to, envelope* e, duration timeout) noexcept
      : receive_wait(p, &accept_none), to_(to), message_(e), timeout_(timeout) {
    wait_for_room();
  }
  ~send_awaiter() {
    if (queued_) process().node.cancel_room_wait(to_, process().self);  // timed out, or the process ended
    if (parked_) destroy(process().node.unpark(process().self));
    destroy(message_);
  }
  bool await_ready() {
    process_base& p = process();
    message_->from = p.self;
    if (!p.node.is_local(to_)) {
      if (p.node.has_room_for(to_)) {
        p.node.route(to_, std::exchange(message_, nullptr));
        return true;
      }
      if (timeout_ <= duration::zero()) {
        failure_ = errc::queue_full;
        return true;
      }
      parked_ = true;
      p.node.park(to_, std::exchange(message_, nullptr), p.self);
      return false;
    }
    switch (p.node.offer(to_, message_, &p.self)) {
      case node_core::offer_result::delivered:
        message_ = nullptr;
        return true;
      case node_core::offer_result::gone:
        failure_ = errc::dead_process;
        return true;
      case node_core::offer_result::full:
        queued_ = true;
        if (timeout_ > duration::zero()) return false;
        failure_ = errc::queue_full;
        return true;
    }
    return true;
  }
  bool await_suspend(std::coroutine_handle<> h) {
    arm_timeout(timeout_, timer_);
    return suspend_in(*this, h);
  }
  result<void> await_resume() {
    process_base& p = process();
    if (parked_) {
      parked_ = false;
      message_ = p.node.unpark(p.self);  // null: it was sent
      if (!message_) return {};
      return error(errc::queue_full, "the transport's queue for the node of " + to_.to_string() + " is still full " +
                                         describe_timeout(timeout_));
    }
    if (room_granted()) {
      queued_ = false;
      if (p.node.offer(to_, message_, nullptr, true) == node_core::offer_result::delivered) {
        message_ = nullptr;
        return {};
      }
      failure_ = errc::dead_process;
    }
    if (failure_ == errc::dead_process) return error(errc::dead_process, to_.to_string());
    if (failure_ == errc::queue_full && !p.node.is_local(to_))
      return error(errc::queue_full, "the transport's queue for the node of " + to_.to_string() + " is full");
    if (failure_ == errc{} && !timed_out()) return {};  // sent in await_ready
    return error(errc::queue_full, "the mailbox of " + to_.to_string() + " is still full " + describe_timeout(timeout_));
  }

 private:
  pid to_;
  envelope* message_;
  duration timeout_;
  bool queued_ = false;  ///< in the target's room_waiters (or granted a place not yet used)
  bool parked_ = false;  ///< the message is parked on the node (a remote target's queue was full)
  errc failure_{};
  timer timer_;
};

/// co_await: suspends the process for a duration of its scheduler's clock. A receive that accepts no
/// message, so that an exit signal ends a sleeping process at once.
class sleep_awaiter : private receive_wait {
 public:
  sleep_awaiter(process_base& p, duration d) noexcept : receive_wait(p, &accept_none), d_(d) {}
  bool await_ready() const noexcept { return d_ <= duration::zero(); }
  bool await_suspend(std::coroutine_handle<> h);
  void await_resume() const noexcept {}

 private:
  duration d_;
  timer timer_;
};

/// co_await: lets other runnable processes run, then continues.
class yield_awaiter {
 public:
  explicit yield_awaiter(process_base& p) noexcept : p_(&p) {}
  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<> h) noexcept;
  void await_resume() const noexcept {}

 private:
  process_base* p_;
};

}  // namespace coactor::detail
