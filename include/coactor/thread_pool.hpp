// coactor: thread_pool, the scheduler that runs processes on real threads and the real clock.
//
// `run()` turns the calling thread into worker 0 and starts `threads - 1` more; it returns when stop() is
// called or no work is left (no live process). With one thread everything (processes, timers, Asio
// handlers) runs on the thread that called run(), without locks on the run queue.
//
// Scheduling: a process woken by a process on the same worker runs next on that worker (which keeps
// request/reply pairs on one core); other work goes through a shared queue that idle workers take from.
// A process runs until it suspends: a process that computes for long should `co_await self.yield_now()`.
//
// With one thread the pool is single-threaded in the sense of scheduler::single_threaded(): its nodes
// run without atomics, and calls from other threads wait for the worker to be between two steps.
//
// The pool owns an asio::io_context that its workers run between processes: I/O objects made on it
// complete on the pool's threads (see asio.hpp).
#pragma once

#include <coactor/scheduler.hpp>

#include <memory>

namespace coactor {

class thread_pool final : public scheduler {
 public:
  /// `threads`: 0 = one per hardware thread.
  explicit thread_pool(unsigned threads = 0);
  ~thread_pool() override;
  thread_pool(const thread_pool&) = delete;
  thread_pool& operator=(const thread_pool&) = delete;

  unsigned threads() const noexcept;

  void schedule(detail::process_base& p) noexcept override;
  time_point now() const noexcept override;
  void arm(detail::timer& t) override;
  bool disarm(detail::timer& t) noexcept override;
  void work_started() noexcept override;
  void work_finished() noexcept override;
  void run() override;
  void stop() noexcept override;
  void post(std::function<void()> fn) override;
  void forget_if(const std::function<bool(const detail::process_base&)>& doomed) noexcept override;
  bool single_threaded() const noexcept override;
  bool on_scheduler_thread() const noexcept override;
  void admit() noexcept override;
  void release() noexcept override;

  /// The Asio context whose handlers run on this pool's workers (never null).
  asio::io_context* io_context() noexcept override;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace coactor
