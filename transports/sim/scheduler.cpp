#include <coactor/detail/process_base.hpp>
#include <coactor/sim/scheduler.hpp>

#include <algorithm>

namespace coactor::sim {

scheduler::scheduler(std::uint64_t seed) : random_(seed) {}

scheduler::~scheduler() = default;

void scheduler::schedule(detail::process_base& p) noexcept {
  try {
    ready_.push_back(&p);
  } catch (...) {
    std::terminate();  // cannot lose a wake-up; out of memory in a simulation is fatal
  }
}

void scheduler::arm(detail::timer& t) { timers_.push(t); }

bool scheduler::disarm(detail::timer& t) noexcept { return timers_.erase(t); }

void scheduler::at(duration delay, std::function<void()> fn) {
  if (free_callbacks_.empty()) {
    callbacks_.push_back(callback{this, {}});
    // Room for every callback, so that giving one back after it ran never allocates.
    if (free_callbacks_.capacity() < callbacks_.size()) free_callbacks_.reserve(2 * callbacks_.size());
    free_callbacks_.push_back(&callbacks_.back());
  }
  callback* c = free_callbacks_.back();
  push(now_ + std::max(delay, duration::zero()), &scheduler::run_callback, c);  // if it throws, nothing is taken
  free_callbacks_.pop_back();
  c->fn = std::move(fn);
}

void scheduler::run_callback(void* context) {
  auto& c = *static_cast<callback*>(context);
  std::function<void()> fn = std::move(c.fn);
  c.fn = nullptr;
  c.owner->free_callbacks_.push_back(&c);
  fn();
}

void scheduler::at(duration delay, void (*run)(void*), void* context) {
  push(now_ + std::max(delay, duration::zero()), run, context);
}

void scheduler::push(time_point due, void (*run)(void*), void* context) {
  events_.push_back(event{due, next_sequence_++, run, context});
  std::push_heap(events_.begin(), events_.end(), later{});
}

void scheduler::forget_if(const std::function<bool(const detail::process_base&)>& doomed) noexcept {
  std::erase_if(ready_, [&](detail::process_base* p) { return doomed(*p); });
}

void scheduler::run() { run_until(time_point::max()); }

bool scheduler::run_until(time_point limit) {
  stopped_ = false;
  while (!stopped_) {
    if (!ready_.empty()) {
      // A seeded choice among the runnable processes: the interleaving is what the seed explores.
      const std::size_t i = static_cast<std::size_t>(random_() % ready_.size());
      detail::process_base* p = ready_[i];
      ready_[i] = ready_.back();
      ready_.pop_back();
      ++steps_;
      p->step();
      continue;
    }
    const detail::timer* t = timers_.top();
    const event* e = events_.empty() ? nullptr : &events_.front();
    if (!t && !e) return true;
    const bool timer_first = t && (!e || t->deadline <= e->due);
    const time_point due = timer_first ? t->deadline : e->due;
    if (due > limit) {
      now_ = std::max(now_, limit);
      return false;
    }
    now_ = std::max(now_, due);
    if (timer_first) {
      detail::timer* fired = timers_.pop_due(now_);
      fired->fire(*fired);
    } else {
      std::pop_heap(events_.begin(), events_.end(), later{});
      const event next = events_.back();
      events_.pop_back();
      next.run(next.context);
    }
  }
  return false;
}

}  // namespace coactor::sim
