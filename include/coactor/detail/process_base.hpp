// coactor detail: process_base, the control block of one process, and receive_wait, the state of a
// receive in progress.
//
// Threads: a process runs on one scheduler thread at a time. Everything here except `box.push()` is
// touched only by the thread currently running the process (or by the thread that schedules it, with a
// happens-before edge through the mailbox CAS and the scheduler's queue).
//
// Wake-up protocol (the one rule that keeps a process on one thread at a time): a process suspended in
// a receive has marked its mailbox `blocked`; the one push that replaces that mark schedules it. A process
// suspended in anything else (sleep, an Asio operation) is scheduled by that operation's completion only.
#pragma once

#include <coactor/detail/mailbox.hpp>
#include <coactor/detail/timer.hpp>
#include <coactor/detail/watch.hpp>
#include <coactor/exit_reason.hpp>
#include <coactor/pid.hpp>

#include <atomic>
#include <coroutine>
#include <cstdint>
#include <exception>
#include <memory>

namespace coactor::detail {

class node_core;
class process_base;

/// A receive in progress: what it accepts, where its scan stopped, and what it found.
class receive_wait {
 public:
  /// Decides whether a plain message or request is the one this receive wants.
  using matcher = bool (*)(receive_wait&, const envelope&);

  receive_wait(process_base& p, matcher m) noexcept : proc_(&p), match_(m) {}
  receive_wait(const receive_wait&) = delete;
  receive_wait& operator=(const receive_wait&) = delete;
  ~receive_wait();

  /// Scans the queue (then what has arrived since) for a wanted message, dropping stale timeout ticks
  /// and stale replies on the way. True when the receive is complete: `take()` holds the message, or it
  /// timed out, or the matcher threw.
  bool poll();

  /// poll(); if nothing is wanted, marks the mailbox blocked. False: the process is now waiting, and from
  /// this moment another thread may run it, so the caller must not touch the process or this object.
  bool poll_or_block();
  /// The same, right after a poll() that found nothing: tries to block first.
  bool block_or_poll();

  /// Arms a timeout after `d` on `t` (which the caller keeps alive until finish()). A new epoch: ticks
  /// of earlier receives become stale.
  void arm_timeout(duration d, timer& t);
  /// Called once the receive is complete: disarms the timeout.
  void finish() noexcept;

  envelope* take() noexcept {
    envelope* e = found_;
    found_ = nullptr;
    return e;
  }
  bool timed_out() const noexcept { return timed_out_; }
  /// The receive ended because an exit signal is pending: the process must end, not resume.
  bool exiting() const noexcept { return exiting_; }
  /// For send_when_room: a `room` envelope completes this wait (room_granted()); others drop them.
  void wait_for_room() noexcept { wants_room_ = true; }
  bool room_granted() const noexcept { return room_granted_; }
  void rethrow_if_failed() const {
    if (failure_) std::rethrow_exception(failure_);
  }
  process_base& process() const noexcept { return *proc_; }

 private:
  static void on_timer(timer& t) noexcept;

  process_base* proc_;
  matcher match_;
  envelope* cursor_ = nullptr;  ///< last queued envelope known not to match; null: scan from the front
  envelope* found_ = nullptr;
  std::uint64_t epoch_ = 0;     ///< the epoch of this receive's timeout, 0 if none
  bool timed_out_ = false;
  bool exiting_ = false;
  bool wants_room_ = false;
  bool room_granted_ = false;
  std::exception_ptr failure_;  ///< what the matcher threw
  timer* timer_ = nullptr;      ///< armed while epoch_ is set
};

class process_base {
 public:
  explicit process_base(node_core& n) noexcept : node(n) {}
  process_base(const process_base&) = delete;
  process_base& operator=(const process_base&) = delete;
  virtual ~process_base() { delete pending_exit.load(std::memory_order_relaxed); }

  /// Called by the scheduler, once per schedule(): completes the pending receive if the mail allows it
  /// (else waits again, without resuming the coroutine), then resumes the coroutine, or ends the
  /// process if an exit signal is pending.
  void step() noexcept {
    if (waiting) {
      if (!waiting->poll_or_block()) return;
      waiting->finish();
      waiting = nullptr;
    }
    if (pending_exit.load(std::memory_order_acquire)) return end_now();
    resume_point.resume();
  }
  /// Ends the process, suspended, for its pending exit signal (node_core::exit).
  void end_now() noexcept;

  node_core& node;
  pid self;
  mailbox box;
  std::coroutine_handle<> root;          ///< the process body's coroutine
  std::coroutine_handle<> resume_point;  ///< the coroutine to resume next (the innermost awaiting one)
  receive_wait* waiting = nullptr;       ///< the receive this process is suspended in, if any
  process_base* next_ready = nullptr;    ///< link in a scheduler's run queue
  std::uint64_t last_tag = 0;            ///< request tags handed out so far
  /// The tag of the reply being awaited, 0 when none. Written by the process; also read by the node
  /// when another node goes down (to fail the request at once), hence atomic (relaxed: a plain load).
  std::atomic<std::uint64_t> awaited_tag{0};
  /// The node that reply comes from, when another node: its incarnation (a request to a pid), or its
  /// address's index in the address book (to a name). 0 otherwise.
  std::atomic<std::uint64_t> awaited_node{0};
  std::uint64_t last_epoch = 0;          ///< receive timeout epochs handed out so far
  std::atomic<std::uint32_t> awaited_address{0};
  bool registered = false;               ///< has a registered name (guarded by the process table)
  bool watches_nodes = false;            ///< receives node_up / node_down (guarded by the process table)
  std::atomic<bool> trap_exits{false};   ///< exit signals arrive as exit_message (context::trap_exits)
  /// The reason of an exit signal that ends this process at its next step; set once (by CAS).
  std::atomic<exit_reason*> pending_exit{nullptr};
  std::unique_ptr<watch_list> watch;     ///< monitors and links, if any (guarded by the process table)
  /// At most this many plain messages and requests queued (0: no limit); see context::limit_mailbox.
  /// Set by the process under its stripe; read by senders under it.
  std::uint32_t mailbox_limit = 0;
  /// Plain messages and requests queued (counted only while limited), places granted to waiters included.
  std::atomic<std::uint32_t> queued{0};
  std::atomic<bool> has_room_waiters{false};
};

/// A process whose body is the callable F, kept alive as long as the process (a lambda's captures live
/// in the lambda object, not in the coroutine frame).
template <class F>
class process_impl final : public process_base {
 public:
  template <class G>
  process_impl(node_core& n, G&& g) : process_base(n), body(std::forward<G>(g)) {}
  F body;
};

}  // namespace coactor::detail
