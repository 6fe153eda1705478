// coactor sim: scheduler, the simulator's clock and execution order.
//
// Runs every process of every node given to it on the calling thread. Time is virtual: it stands still
// while something is runnable and jumps to the next timer or event when nothing is, so a 30-second
// timeout costs nothing. Which runnable process goes next is drawn from a generator seeded at
// construction, so one seed gives one run, step for step, and other seeds explore other interleavings.
//
// It implements coactor::scheduler, so process code cannot tell it from a thread_pool; but it has no
// Asio io_context: processes that await Asio operations need the real thread_pool.
#pragma once

#include <coactor/detail/timer_queue.hpp>
#include <coactor/scheduler.hpp>

#include <cstdint>
#include <deque>
#include <functional>
#include <random>
#include <type_traits>
#include <vector>

namespace coactor::sim {

class scheduler final : public coactor::scheduler {
 public:
  explicit scheduler(std::uint64_t seed);
  ~scheduler() override;
  scheduler(const scheduler&) = delete;
  scheduler& operator=(const scheduler&) = delete;

  /// Runs until nothing is runnable and nothing is due at or before `limit`, or until stop().
  /// Returns true if it went idle, false if it reached the limit (virtual time is then `limit`) or was
  /// stopped.
  bool run_until(time_point limit);

  /// Runs `fn` at virtual time now() + `delay`. Events due at the same time run in the order they were
  /// scheduled (whichever form of at() scheduled them).
  void at(duration delay, std::function<void()> fn);
  /// The same without allocating: runs `run(context)`. The simulator's own per-frame events use it; the
  /// caller keeps `context` alive until the event has run or the scheduler is destroyed (events still
  /// queued then are dropped without running).
  void at(duration delay, void (*run)(void*), void* context);

  /// The seeded generator: everything random in a simulation draws from it, in a fixed order.
  std::mt19937_64& random() noexcept { return random_; }
  /// Process steps run so far.
  std::uint64_t steps() const noexcept { return steps_; }

  // coactor::scheduler
  void schedule(detail::process_base& p) noexcept override;
  time_point now() const noexcept override { return now_; }
  void arm(detail::timer& t) override;
  bool disarm(detail::timer& t) noexcept override;
  void work_started() noexcept override {}
  void work_finished() noexcept override {}
  /// run_until(end of time): until idle.
  void run() override;
  void stop() noexcept override { stopped_ = true; }
  void post(std::function<void()> fn) override { at(duration::zero(), std::move(fn)); }
  void forget_if(const std::function<bool(const detail::process_base&)>& doomed) noexcept override;
  bool single_threaded() const noexcept override { return true; }
  bool on_scheduler_thread() const noexcept override { return true; }

 private:
  // Trivially copyable and 32 bytes, so moving one through the heap is four word copies. An event
  // scheduled with a std::function runs run_callback() on its callback.
  struct event {
    time_point due;
    std::uint64_t sequence;
    void (*run)(void*);
    void* context;
  };
  static_assert(std::is_trivially_copyable_v<event>);
  struct callback {
    scheduler* owner;
    std::function<void()> fn;
  };
  static void run_callback(void* context);
  // A function object rather than a function, so that the heap algorithms inline it.
  struct later {
    bool operator()(const event& a, const event& b) const noexcept {
      return a.due > b.due || (a.due == b.due && a.sequence > b.sequence);
    }
  };
  void push(time_point due, void (*run)(void*), void* context);

  std::mt19937_64 random_;
  time_point now_{};
  std::vector<detail::process_base*> ready_;
  detail::timer_queue timers_;
  std::vector<event> events_;  // a min-heap on (due, sequence)
  std::deque<callback> callbacks_;         // of events scheduled with a std::function (they never move)
  std::vector<callback*> free_callbacks_;  // those not waiting to run
  std::uint64_t next_sequence_ = 0;
  std::uint64_t steps_ = 0;
  bool stopped_ = false;
};

}  // namespace coactor::sim
