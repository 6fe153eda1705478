// coactor: context, what a process can do. The first parameter of every process body.
//
//     struct put { std::string key; std::string value; };
//
//     coactor::process client(coactor::context self, coactor::pid store) {
//       auto stored = co_await self.request<bool>(store, coactor::make<put>("k", "v"), 1s);
//       if (!stored) std::cerr << stored.error().message() << '\n';
//     }
//
// A context is a small handle to the running process; copy it freely, but use it only inside that
// process's own body (and the tasks it awaits): it is not thread-safe, and it dangles once the process
// has ended.
//
// Sending never blocks and never suspends. Messages from one sender to one receiver arrive in the order
// they were sent. Receiving is selective: a receive takes the first queued message it accepts and leaves
// the others queued in arrival order (as in Erlang). Operations that can time out or fail return a
// `result`; a timeout never loses a message (a message that arrives as the timer fires stays queued).
//
// Messages are taken by value (moved or copied in), or built in place by `make<T>(fields...)`
// (make.hpp), the form to use inside co_await: with g++ 12, a message built with braces inside a
// co_await expression (`co_await self.request<R>(to, put{k, v}, t)`) is destroyed twice, and coactor
// flags such calls with a warning (docs/building.md, "Compilers").
//
// Awaiting: each operation marked "co_await" returns an awaitable object (an implementation detail, in
// detail/awaiters.hpp) that must be awaited at once, in the same expression.
#pragma once

#include <coactor/detail/awaiters.hpp>
#include <coactor/detail/node_core.hpp>
#include <coactor/detail/process_base.hpp>
#include <coactor/error.hpp>
#include <coactor/exit_reason.hpp>
#include <coactor/make.hpp>
#include <coactor/message.hpp>
#include <coactor/monitor.hpp>
#include <coactor/node_events.hpp>
#include <coactor/pid.hpp>
#include <coactor/process.hpp>
#include <coactor/process_name.hpp>
#include <coactor/result.hpp>
#include <coactor/time.hpp>

#include <string>
#include <type_traits>
#include <utility>

namespace coactor {

class node;

namespace detail {

template <class F, class... A>
pid spawn(node_core& n, F&& body, A&&... args);
template <class F, class... A>
pid spawn_with(node_core& n, const pid* link, F&& body, A&&... args);

#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ < 13
inline constexpr bool gcc_destroys_braced_temporaries_twice = true;
#else
inline constexpr bool gcc_destroys_braced_temporaries_twice = false;
#endif

/// An argument that g++ 12 may destroy twice when it is created inside a co_await expression: an
/// rvalue of an aggregate (built with braces) that has a destructor. (A named variable passed with
/// std::move looks the same to a function; it is safe, but make<T>() or a copy says so.)
template <class T>
concept braced_temporary_at_risk = gcc_destroys_braced_temporaries_twice && !std::is_lvalue_reference_v<T> &&
                                   std::is_aggregate_v<std::remove_cvref_t<T>> &&
                                   !std::is_trivially_destructible_v<std::remove_cvref_t<T>>;

/// The same for a predicate: an rvalue lambda whose captures have a destructor.
template <class F>
concept closure_at_risk = gcc_destroys_braced_temporaries_twice && !std::is_lvalue_reference_v<F> &&
                          std::is_class_v<std::remove_cvref_t<F>> &&
                          !std::is_trivially_destructible_v<std::remove_cvref_t<F>>;

template <class R>
using request_awaiter_for = std::conditional_t<std::is_same_v<R, message>, request_awaiter,
                                               typed_request_awaiter<payload_t<R>>>;

}  // namespace detail

#define COACTOR_GCC12_TEMPORARY_WARNING                                                                   \
  "g++ 12 destroys an object built with braces inside a co_await expression twice (a double free at run " \
  "time): build the message with coactor::make<T>(fields...), or name it before the co_await; or compile " \
  "with clang++ or g++ 13 or later (docs/building.md, \"Compilers\")"

class context {
 public:
  explicit context(detail::process_base& p) noexcept : p_(&p) {}

  /// This process.
  const coactor::pid& pid() const noexcept { return p_->self; }
  /// The node this process runs on.
  coactor::node& node() const noexcept { return p_->node.owner(); }
  /// The current time of the node's scheduler: the steady clock, or virtual time under the simulator.
  /// Timeouts and sleeps are measured on this clock.
  time_point now() const noexcept { return p_->node.scheduler().now(); }

  /// Sends `msg` to `to` (moved or copied into the message, or built there by make<T>()). Never blocks,
  /// never fails here: a message that cannot be delivered (a dead or unknown process, an unreachable
  /// node, a type without a wire form for another node) is counted as a dead letter and reported to the
  /// node's error hook.
  template <class T>
  void send(const coactor::pid& to, T&& msg) const {
    detail::envelope* e = detail::make_envelope<detail::payload_t<T>>(std::forward<T>(msg));
    e->from = p_->self;
    p_->node.route(to, e);
  }

  /// Sends `msg` to whatever process holds the name `to.name` on the node at `to.address` (see
  /// process_name.hpp). Never blocks, never fails here: an unknown name is counted and reported.
  template <class T>
  void send(const process_name& to, T&& msg) const {
    detail::envelope* e = detail::make_envelope<detail::payload_t<T>>(std::forward<T>(msg));
    e->from = p_->self;
    p_->node.route(to, e);
  }

  // ---- back-pressure: bounded mailboxes (docs/faults.md, "Back-pressure") ----

  /// Limits this process's mailbox to `max` plain messages and requests (0: no limit, the default);
  /// replies, timeouts and the node's own messages (down, exit_message, node_up/node_down) are never
  /// refused. Set it once, at the start of the body. When the mailbox is full, a sender chooses:
  /// send() drops the message and reports it (errc::queue_full to the error hook; a request fails with
  /// errc::queue_full), try_send() fails with errc::queue_full, send_when_room() waits. Messages from
  /// other nodes are treated as send() does (their requests fail back to the requester).
  void limit_mailbox(std::uint32_t max) const { p_->node.limit_mailbox(*p_, max); }
  /// The number of messages in this process's mailbox now (all kinds queued).
  std::size_t mailbox_length() const noexcept {
    p_->box.fetch(p_->node.concurrent());
    std::size_t n = 0;
    for (const detail::envelope* e = p_->box.front(); e; e = e->next) ++n;
    return n;
  }
  /// send() that fails instead of dropping: errc::queue_full when the local target's mailbox is full,
  /// errc::dead_process when it is gone. A target on another node: errc::queue_full when the
  /// transport's queue for its node is full (transport::has_room), otherwise as send() (the other node
  /// reports what its mailboxes refuse).
  template <class T>
  result<void> try_send(const coactor::pid& to, T&& msg) const {
    if (!p_->node.is_local(to)) {
      if (!p_->node.has_room_for(to))
        return error(errc::queue_full, "the transport's queue for the node of " + to.to_string() + " is full");
      detail::envelope* e = detail::make_envelope<detail::payload_t<T>>(std::forward<T>(msg));
      e->from = p_->self;
      p_->node.route(to, e);
      return {};
    }
    detail::envelope* e = detail::make_envelope<detail::payload_t<T>>(std::forward<T>(msg));
    e->from = p_->self;
    switch (p_->node.offer(to, e)) {
      case detail::node_core::offer_result::delivered:
        return {};
      case detail::node_core::offer_result::full:
        detail::destroy(e);
        return error(errc::queue_full, "the mailbox of " + to.to_string() + " is full");
      case detail::node_core::offer_result::gone:
        break;
    }
    detail::destroy(e);
    return error(errc::dead_process, to.to_string());
  }
  /// co_await → result<void>: send() that waits while the local target's mailbox is full (senders are
  /// served in the order they started waiting); errc::queue_full if it is still full after `timeout`,
  /// errc::dead_process if the target ends meanwhile. A target on another node: waits while the
  /// transport's queue for its node is full (transport::has_room; in order, too), then sends as send().
  template <class T>
  detail::send_awaiter send_when_room(const coactor::pid& to, T&& msg, duration timeout) const
    requires(!detail::braced_temporary_at_risk<T>)
  {
    return {*p_, to, detail::make_envelope<detail::payload_t<T>>(std::forward<T>(msg)), timeout};
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
  auto receive_if(Pred&& pred) const
    requires(!detail::closure_at_risk<Pred>)
  {
    return receive_matching<false>(std::forward<Pred>(pred));
  }

  /// co_await → result<message>: like receive_if(pred), or errc::timeout after `timeout`.
  template <class Pred>
  auto receive_if(Pred&& pred, duration timeout) const
    requires(!detail::closure_at_risk<Pred>)
  {
    return receive_matching<true>(std::forward<Pred>(pred), timeout);
  }

  /// co_await → result<R>: sends `msg` to `to` as a request and waits for the reply to that one
  /// request; other messages stay queued. With R = message (the default) the reply comes as it is; with
  /// another R it is read as an R (a reply of another type fails with errc::bad_message).
  /// Fails with the error the server replied with (reply(m, error)), errc::request_to_self,
  /// errc::dead_process (at once when the target is known dead), errc::unreachable,
  /// errc::not_serializable (a type without a wire form, for another node), or errc::timeout after
  /// `timeout`. A reply that arrives after the timeout is dropped (and counted in
  /// node_stats::stale_replies).
  template <class R = message, class T>
  auto request(const coactor::pid& to, T&& msg, duration timeout) const
    requires(!detail::braced_temporary_at_risk<T>)
  {
    return send_request<R>(to, std::forward<T>(msg), timeout);
  }

  /// co_await → result<R>: a request to whatever process holds a name (see process_name.hpp); an
  /// unknown name fails with errc::no_such_name.
  template <class R = message, class T>
  auto request(process_name to, T&& msg, duration timeout) const
    requires(!detail::braced_temporary_at_risk<T>)
  {
    return send_request<R>(std::move(to), std::forward<T>(msg), timeout);
  }

  /// Answers `m`: if it is a request, the reply goes to the waiting requester; otherwise `answer` is
  /// sent to `m`'s sender as a plain message. Like send(), it never blocks or fails here.
  template <class T>
  void reply(const message& m, T&& answer) const
    requires(!std::is_same_v<std::remove_cvref_t<T>, error> && !std::is_same_v<std::remove_cvref_t<T>, errc>)
  {
    const detail::envelope* req = m.envelope();
    if (!req) return;
    detail::envelope* e = detail::make_envelope<detail::payload_t<T>>(std::forward<T>(answer));
    e->from = p_->self;
    e->wire_codec = req->wire_codec;  // answered in the codec of the frame it answers
    if (req->kind == detail::envelope_kind::request) {
      e->kind = detail::envelope_kind::reply;
      e->tag = req->tag;
    }
    p_->node.route(req->from, e);
  }

  /// Answers the request `m` with a failure (an error, or just an errc): the requester's co_await
  /// returns `why` as its error, on this node or another (a code of coactor::errc travels as it is, any other code as errc::rejected
  /// with the code's message in the detail). For a plain message, which nobody awaits, `why` goes to
  /// this node's error hook instead.
  void reply(const message& m, error why) const { p_->node.reply_error(m.envelope(), p_->self, std::move(why)); }

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

  // ---- failures: monitors, links, exit signals (docs/faults.md) ----

  /// Monitors `target`, on this node or another: when it ends, this process receives one `down`
  /// message (monitor.hpp) with the returned ref and the reason; `noproc` at once if it is already gone,
  /// `noconnection` if its node goes down or cannot be reached. Monitoring twice gives two monitors.
  monitor_ref monitor(const coactor::pid& target) const { return {p_->node.monitor(*p_, target)}; }
  /// Monitors whatever process holds a name now (a later holder of the name is not watched).
  monitor_ref monitor(const process_name& target) const { return {p_->node.monitor(*p_, target)}; }
  /// Cancels a monitor: once it returns, no down message for `ref` is received (one already queued is
  /// removed).
  void demonitor(monitor_ref ref) const { p_->node.demonitor(*p_, ref.id); }
  /// Links this process and `other`: when either ends abnormally, an exit signal with its reason goes
  /// to the other, which ends with that reason unless it traps exits. Linking to a process that is gone
  /// sends this process a `noproc` exit signal; one on a node that goes down, `noconnection`. Idempotent.
  void link(const coactor::pid& other) const { p_->node.link(*p_, other); }
  /// Removes the link with `other`, if any; an exit signal from it that is already on its way is void.
  void unlink(const coactor::pid& other) const { p_->node.unlink(*p_, other); }
  /// spawn() and link() in one step: the new process cannot end before the link exists.
  template <class F, class... A>
  coactor::pid spawn_linked(F&& body, A&&... args) const {
    return detail::spawn_with(p_->node, &p_->self, std::forward<F>(body), std::forward<A>(args)...);
  }
  /// With `on`, exit signals (from links or exit()) no longer end this process: each arrives as an
  /// `exit_message` (exit_reason.hpp) to receive like any message. kill() ends it all the same.
  void trap_exits(bool on = true) const { p_->trap_exits.store(on, std::memory_order_relaxed); }
  /// Sends `to` an exit signal with `reason`: a process that does not trap exits ends with that reason
  /// when it is abnormal and ignores it when it is normal. An exit signal takes effect when the target
  /// next waits (a receive, request or sleep) or is resumed; one that is running computes on until then.
  void exit(const coactor::pid& to, exit_reason reason) const {
    p_->node.send_exit(p_->self, to, std::move(reason), detail::exit_via::call);
  }
  /// Ends `to` with reason `killed`, whether it traps exits or not (see exit() for when).
  void kill(const coactor::pid& to) const { p_->node.send_exit(p_->self, to, exit_reason::killed(), detail::exit_via::kill); }
  /// With `on`, this process receives node_up and node_down (node_events.hpp) when the node makes or
  /// loses contact with another node.
  void watch_nodes(bool on = true) const { p_->node.watch_nodes(*p_, on); }

  /// For the runtime and extensions (asio.hpp): the control block.
  detail::process_base& control_block() const noexcept { return *p_; }

  // ---- g++ 12 only: the same calls, with a warning at the caller's line ----
  // Chosen for an argument that g++ 12 may destroy twice (see detail::braced_temporary_at_risk). They do
  // exactly what the calls above do; the warning says how to write the call safely.

  template <class R = message, class T>
  [[deprecated(COACTOR_GCC12_TEMPORARY_WARNING)]] auto request(const coactor::pid& to, T&& msg, duration timeout) const
    requires detail::braced_temporary_at_risk<T>
  {
    return send_request<R>(to, std::forward<T>(msg), timeout);
  }
  template <class R = message, class T>
  [[deprecated(COACTOR_GCC12_TEMPORARY_WARNING)]] auto request(process_name to, T&& msg, duration timeout) const
    requires detail::braced_temporary_at_risk<T>
  {
    return send_request<R>(std::move(to), std::forward<T>(msg), timeout);
  }
  template <class T>
  [[deprecated(COACTOR_GCC12_TEMPORARY_WARNING)]] detail::send_awaiter send_when_room(const coactor::pid& to, T&& msg,
                                                                                 duration timeout) const
    requires detail::braced_temporary_at_risk<T>
  {
    return {*p_, to, detail::make_envelope<detail::payload_t<T>>(std::forward<T>(msg)), timeout};
  }
  template <class Pred>
  [[deprecated(COACTOR_GCC12_TEMPORARY_WARNING)]] auto receive_if(Pred&& pred) const
    requires detail::closure_at_risk<Pred>
  {
    return receive_matching<false>(std::forward<Pred>(pred));
  }
  template <class Pred>
  [[deprecated(COACTOR_GCC12_TEMPORARY_WARNING)]] auto receive_if(Pred&& pred, duration timeout) const
    requires detail::closure_at_risk<Pred>
  {
    return receive_matching<true>(std::forward<Pred>(pred), timeout);
  }

 private:
  // What the public overloads (both sets) do.
  template <class R, class Target, class T>
  auto send_request(Target&& to, T&& msg, duration timeout) const {
    return detail::request_awaiter_for<R>(*p_, std::forward<Target>(to),
                                          detail::make_envelope<detail::payload_t<T>>(std::forward<T>(msg)), timeout);
  }
  template <bool Timed, class Pred, class... Timeout>
  auto receive_matching(Pred&& pred, Timeout... timeout) const {
    return detail::predicate_receive_awaiter<message, std::decay_t<Pred>, Timed>(*p_, std::forward<Pred>(pred),
                                                                                  timeout...);
  }

  detail::process_base* p_;
};

#undef COACTOR_GCC12_TEMPORARY_WARNING

}  // namespace coactor

#include <coactor/detail/spawn.hpp>
