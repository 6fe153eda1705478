// coactor: scheduler, what runs processes and keeps time.
//
// A node hands its processes to a scheduler: the scheduler resumes each runnable process on one of its
// threads, never on two at once, and keeps the timers behind receive timeouts, request timeouts and
// sleeps. It is an interface so that the clock and the execution order can be replaced: `thread_pool`
// (thread_pool.hpp) runs on real threads and the real clock; the simulator runs everything on one
// thread, in a seeded order, on virtual time. Process code cannot tell which one it runs on.
//
// Several nodes may share one scheduler (for example many nodes of one test in one process).
#pragma once

#include <coactor/detail/timer.hpp>
#include <coactor/time.hpp>

#include <functional>

namespace asio {
class io_context;
}

namespace coactor {

namespace detail {
class process_base;
}  // namespace detail

class scheduler {
 public:
  virtual ~scheduler() = default;

  /// Makes a suspended process runnable; the scheduler will call `p.step()` once on one of its threads.
  /// Thread-safe. Each suspension of a process is followed by exactly one schedule() (the runtime
  /// guarantees it), so a process is never queued twice.
  virtual void schedule(detail::process_base& p) noexcept = 0;

  /// The current time of this scheduler's clock (the real steady clock, or virtual time).
  virtual time_point now() const noexcept = 0;

  /// Arms `t`: `t.fire(t)` is called once, at or after `t.deadline`, on a scheduler thread. Thread-safe.
  /// `t` must stay alive and unmoved until it fired or was disarmed.
  virtual void arm(detail::timer& t) = 0;

  /// Disarms `t`. When this returns, `t.fire` is not running and will not run. Returns false if it had
  /// already fired (or was never armed). Thread-safe.
  virtual bool disarm(detail::timer& t) noexcept = 0;

  /// Outstanding work: live processes, and anything else that must finish before run() may return
  /// (such as frames a transport still has to write). Thread-safe.
  virtual void work_started() noexcept = 0;
  virtual void work_finished() noexcept = 0;

  /// Runs until stop() is called or no work is outstanding. The calling thread takes part.
  virtual void run() = 0;

  /// Makes run() return soon, in every thread. Thread-safe; may be called from a process.
  virtual void stop() noexcept = 0;

  /// Forgets every queued step of the processes for which `doomed` is true: a node going away while the
  /// scheduler lives on (several nodes sharing one scheduler; the simulator crashing a node). Called from
  /// the scheduler's thread, or while it does not run.
  virtual void forget_if(const std::function<bool(const detail::process_base&)>& doomed) noexcept {
    static_cast<void>(doomed);
  }

  /// The Asio context whose handlers run on this scheduler's threads, for transports and processes that
  /// do I/O through Asio (thread_pool has one); null when the scheduler has none (the simulator: its
  /// transport needs no sockets).
  virtual asio::io_context* io_context() noexcept { return nullptr; }

  /// Runs `fn` soon on a scheduler thread (at the next run() if none runs now). Thread-safe; functions
  /// posted by one thread run in the order they were posted.
  virtual void post(std::function<void()> fn) = 0;

  // ---- confinement ----
  // A single-threaded scheduler runs every process, timer and completion on one thread. Nodes on it keep
  // their state (process table, mailboxes) without atomics or locks; a call from another thread into
  // such a node first waits in admit() until the scheduler's thread is between two steps, and keeps it
  // out until release().

  /// True if this scheduler runs everything on one thread.
  virtual bool single_threaded() const noexcept = 0;
  /// True on a thread that is currently running this scheduler.
  virtual bool on_scheduler_thread() const noexcept = 0;
  /// Single-threaded schedulers, from another thread: waits until the scheduler is between steps and
  /// holds it there. Not reentrant.
  virtual void admit() noexcept {}
  /// Ends an admit().
  virtual void release() noexcept {}
};

namespace detail {

/// Scope in which the calling thread may touch the state of nodes on `s` (see scheduler::admit).
class admission {
 public:
  explicit admission(scheduler& s) noexcept
      : s_(s.single_threaded() && !s.on_scheduler_thread() ? &s : nullptr) {
    if (s_) s_->admit();
  }
  ~admission() {
    if (s_) s_->release();
  }
  admission(const admission&) = delete;
  admission& operator=(const admission&) = delete;

 private:
  scheduler* s_;
};

}  // namespace detail

}  // namespace coactor
