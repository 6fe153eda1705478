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
  events_.push_back(event{now_ + std::max(delay, duration::zero()), next_sequence_++, std::move(fn)});
  std::push_heap(events_.begin(), events_.end(), later);
}

void scheduler::forget(const detail::node_core& node) noexcept {
  std::erase_if(ready_, [&](detail::process_base* p) { return &p->node == &node; });
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
      std::pop_heap(events_.begin(), events_.end(), later);
      std::function<void()> fn = std::move(events_.back().fn);
      events_.pop_back();
      fn();
    }
  }
  return false;
}

}  // namespace coactor::sim
