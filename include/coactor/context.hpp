// coactor: context, what a process can do. The first parameter of every process body.
//
//     coactor::process echo(coactor::context self) {
//       for (;;) {
//         coactor::message m = co_await self.receive();
//         self.reply(m, std::string("got it"));
//       }
//     }
//
// A context is a small handle to the running process; copy it freely, but use it only inside that
// process's own body (and the tasks it awaits): it is not thread-safe, and it dangles once the process
// has ended.
//
// g++ 12 (Debian 12's compiler) miscompiles a temporary of a class type that holds a std::string when
// it is created inside a co_await expression: the temporary is copied bit by bit into the coroutine
// frame and its string then points at freed stack memory. clang is not affected. So, with g++ 12,
// name such a message (or process_name) before awaiting on it:
//
//     ping msg{41, "hello", self.pid()};                       // not: co_await self.request(p, ping{...}, t)
//     auto r = co_await self.request<pong>(p, std::move(msg), 1s);
//
// A std::string temporary on its own, numbers, pids and plain sends (no co_await) are not affected.
//
// Sending never blocks and never suspends. Messages from one sender to one receiver arrive in the order
// they were sent. Receiving is selective: a receive takes the first queued message it accepts and leaves
// the others queued in arrival order (as in Erlang). Operations that can time out or fail return a
// `result`; a timeout never loses a message (a message that arrives as the timer fires stays queued).
#pragma once

#include <coactor/detail/envelope.hpp>
#include <coactor/detail/node_core.hpp>
#include <coactor/detail/process_base.hpp>
#include <coactor/message.hpp>
#include <coactor/pid.hpp>
#include <coactor/process.hpp>
#include <coactor/process_name.hpp>
#include <coactor/result.hpp>
#include <coactor/time.hpp>

#include <coroutine>
#include <exception>
#include <string>
#include <type_traits>
#include <utility>

namespace coactor {

class node;

namespace detail {

std::string describe_timeout(duration d);

/// Suspends the current process in `w`, whose last poll() found nothing; false if `w` completed on the
/// way (resume at once).
inline bool suspend_in(receive_wait& w, std::coroutine_handle<> h) {
  process_base& p = w.process();
  p.resume_point = h;
  p.waiting = &w;
  if (!w.block_or_poll()) return true;  // waiting: from here on another thread may run the process
  p.waiting = nullptr;
  w.finish();
  return false;
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
  bool await_ready() { return poll(); }
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
    if (poll()) return true;
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
    e->tag = p.awaited_tag = ++p.last_tag;
    e->from = p.self;
    // A target known to be dead (or a name nobody holds) answers at once with a failure reply.
    if (name_.name.empty())
      p.node.route(to_, e);
    else
      p.node.route(name_, e);
    if (poll()) return true;
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
    process().awaited_tag = 0;
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

/// co_await: suspends the process for a duration of its scheduler's clock.
class sleep_awaiter {
 public:
  sleep_awaiter(process_base& p, duration d) noexcept : p_(&p), d_(d) {}
  ~sleep_awaiter();
  bool await_ready() const noexcept { return d_ <= duration::zero(); }
  void await_suspend(std::coroutine_handle<> h);
  void await_resume() const noexcept {}

 private:
  static void on_timer(timer& t) noexcept;
  process_base* p_;
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

template <class F, class... A>
pid spawn(node_core& n, F&& body, A&&... args);

}  // namespace detail

class context {
 public:
  explicit context(detail::process_base& p) noexcept : p_(&p) {}

  /// This process.
  const coactor::pid& pid() const noexcept { return p_->self; }
  /// The node this process runs on.
  coactor::node& node() const noexcept { return p_->node.owner(); }

  /// Sends `msg` to `to` (moved or copied into the message). Never blocks, never fails: a message to a
  /// dead or unreachable process is counted as a dead letter and reported to the node's error hook.
  template <class T>
  void send(const coactor::pid& to, T&& msg) const {
    detail::envelope* e = detail::make_envelope<detail::payload_t<T>>(std::forward<T>(msg));
    e->from = p_->self;
    p_->node.route(to, e);
  }

  /// Sends `msg` to whatever process holds the name `to.name` on the node `to.node` (see
  /// process_name.hpp). Never blocks, never fails: an unknown name is counted and reported.
  template <class T>
  void send(const process_name& to, T&& msg) const {
    detail::envelope* e = detail::make_envelope<detail::payload_t<T>>(std::forward<T>(msg));
    e->from = p_->self;
    p_->node.route(to, e);
  }

  /// Passes `m` on to `to` as it is: its sender, and for a request the request itself, are kept, so a
  /// reply goes straight back to the original sender. A message from another node is passed on without
  /// being decoded and encoded again when its type is unknown here.
  void forward(const coactor::pid& to, message m) const {
    if (m) p_->node.route(to, m.release());
  }
  void forward(const process_name& to, message m) const {
    if (m) p_->node.route(to, m.release());
  }

  /// co_await → message: the first queued message.
  detail::receive_awaiter<message> receive() const noexcept { return {*p_, &detail::accept_any}; }

  /// co_await → received<T>: the first queued message of type T; others stay queued.
  template <class T>
  detail::receive_awaiter<received<T>> receive() const noexcept {
    return {*p_, &detail::accept_type<detail::payload_t<T>>};
  }

  /// co_await → result<message>: the first queued message, or errc::timeout after `timeout`.
  detail::timed_receive_awaiter<message> receive(duration timeout) const noexcept {
    return {*p_, &detail::accept_any, timeout};
  }

  /// co_await → result<received<T>>: the first message of type T, or errc::timeout after `timeout`.
  template <class T>
  detail::timed_receive_awaiter<received<T>> receive(duration timeout) const noexcept {
    return {*p_, &detail::accept_type<detail::payload_t<T>>, timeout};
  }

  /// co_await → message: the first queued message for which `pred(const message&)` is true. If `pred`
  /// throws, the exception comes out of the co_await (and the message stays queued).
  template <class Pred>
  auto receive_if(Pred pred) const {
    return detail::predicate_receive_awaiter<message, Pred, false>(*p_, std::move(pred));
  }

  /// co_await → result<message>: like receive_if(pred), or errc::timeout after `timeout`.
  template <class Pred>
  auto receive_if(Pred pred, duration timeout) const {
    return detail::predicate_receive_awaiter<message, Pred, true>(*p_, std::move(pred), timeout);
  }

  /// co_await → result<R>: sends `msg` to `to` as a request and waits for the reply to that one
  /// request; other messages stay queued. With R = message (the default) the reply comes as it is; with
  /// another R it is read as an R (a reply of another type fails with errc::bad_message).
  /// Fails with errc::request_to_self, errc::dead_process (at once when the target is known dead),
  /// errc::unreachable, or errc::timeout after `timeout`. A reply that arrives after the timeout is
  /// dropped (and counted in node_stats::stale_replies).
  template <class R = message, class T>
  auto request(const coactor::pid& to, T&& msg, duration timeout) const {
    using awaiter = std::conditional_t<std::is_same_v<R, message>, detail::request_awaiter,
                                       detail::typed_request_awaiter<detail::payload_t<R>>>;
    return awaiter(*p_, to, detail::make_envelope<detail::payload_t<T>>(std::forward<T>(msg)), timeout);
  }

  /// co_await → result<R>: a request to whatever process holds a name (see process_name.hpp); an
  /// unknown name fails with errc::no_such_name.
  template <class R = message, class T>
  auto request(process_name to, T&& msg, duration timeout) const {
    using awaiter = std::conditional_t<std::is_same_v<R, message>, detail::request_awaiter,
                                       detail::typed_request_awaiter<detail::payload_t<R>>>;
    return awaiter(*p_, std::move(to), detail::make_envelope<detail::payload_t<T>>(std::forward<T>(msg)), timeout);
  }

  /// Answers `m`: if it is a request, the reply goes to the waiting requester; otherwise `answer` is
  /// sent to `m`'s sender as a plain message. Like send(), it never blocks or fails.
  template <class T>
  void reply(const message& m, T&& answer) const {
    const detail::envelope* req = m.envelope();
    if (!req) return;
    detail::envelope* e = detail::make_envelope<detail::payload_t<T>>(std::forward<T>(answer));
    e->from = p_->self;
    if (req->kind == detail::envelope_kind::request) {
      e->kind = detail::envelope_kind::reply;
      e->tag = req->tag;
    }
    p_->node.route(req->from, e);
  }

  /// co_await: suspends this process for `d` (of the scheduler's clock, virtual under simulation).
  detail::sleep_awaiter sleep(duration d) const noexcept { return {*p_, d}; }

  /// co_await: lets the other runnable processes run first. A process that computes for long without
  /// awaiting anything holds its thread; yield in such loops.
  detail::yield_awaiter yield_now() const noexcept { return detail::yield_awaiter{*p_}; }

  /// Starts a new process on this node, like node::spawn.
  template <class F, class... A>
  coactor::pid spawn(F&& body, A&&... args) const {
    return detail::spawn(p_->node, std::forward<F>(body), std::forward<A>(args)...);
  }

  /// Registers this process under `name` (see node::register_name).
  result<void> register_as(std::string name) const { return p_->node.register_name(std::move(name), p_->self); }

  /// For the runtime and extensions (asio.hpp): the control block.
  detail::process_base& control_block() const noexcept { return *p_; }

 private:
  detail::process_base* p_;
};

namespace detail {

template <class F, class... A>
pid spawn(node_core& n, F&& body, A&&... args) {
  static_assert(std::is_invocable_r_v<process, std::decay_t<F>&, context, A&&...>,
                "a process body is callable as body(coactor::context, args...) and returns coactor::process");
  auto* p = new process_impl<std::decay_t<F>>(n, std::forward<F>(body));
  std::coroutine_handle<> root;
  try {
    root = std::invoke(p->body, context{*p}, std::forward<A>(args)...).adopt(*p);
  } catch (...) {
    delete p;
    throw;
  }
  return n.start(*p, root);
}

}  // namespace detail

}  // namespace coactor
