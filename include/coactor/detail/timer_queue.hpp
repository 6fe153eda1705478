// coactor detail: timer_queue, a binary min-heap of intrusive timers ordered by (deadline, arming order).
// Not thread-safe: the scheduler that owns it locks around it. Removal of any entry is O(log n).
#pragma once

#include <coactor/detail/timer.hpp>

#include <cstdint>
#include <optional>
#include <vector>

namespace coactor::detail {

class timer_queue {
 public:
  void push(timer& t) {
    t.sequence = next_sequence_++;
    t.heap_index = heap_.size();
    heap_.push_back(&t);
    sift_up(t.heap_index);
  }

  /// Removes `t` if it is queued; false if it was not.
  bool erase(timer& t) noexcept {
    if (!t.queued()) return false;
    std::size_t i = t.heap_index;
    std::size_t last = heap_.size() - 1;
    if (i != last) {
      place(i, heap_[last]);
      heap_.pop_back();
      if (i > 0 && before(*heap_[i], *heap_[(i - 1) / 2]))
        sift_up(i);
      else
        sift_down(i);
    } else {
      heap_.pop_back();
    }
    t.heap_index = timer::not_queued;
    return true;
  }

  bool empty() const noexcept { return heap_.empty(); }
  std::size_t size() const noexcept { return heap_.size(); }
  timer* top() const noexcept { return heap_.empty() ? nullptr : heap_.front(); }

  std::optional<time_point> next_deadline() const noexcept {
    if (heap_.empty()) return std::nullopt;
    return heap_.front()->deadline;
  }

  /// Removes and returns the earliest timer if it is due at `now`, else null.
  timer* pop_due(time_point now) noexcept {
    if (heap_.empty() || heap_.front()->deadline > now) return nullptr;
    timer* t = heap_.front();
    erase(*t);
    return t;
  }

 private:
  static bool before(const timer& a, const timer& b) noexcept {
    return a.deadline < b.deadline || (a.deadline == b.deadline && a.sequence < b.sequence);
  }
  void place(std::size_t i, timer* t) noexcept {
    heap_[i] = t;
    t->heap_index = i;
  }
  void sift_up(std::size_t i) noexcept {
    timer* t = heap_[i];
    while (i > 0) {
      std::size_t parent = (i - 1) / 2;
      if (!before(*t, *heap_[parent])) break;
      place(i, heap_[parent]);
      i = parent;
    }
    place(i, t);
  }
  void sift_down(std::size_t i) noexcept {
    timer* t = heap_[i];
    const std::size_t n = heap_.size();
    for (;;) {
      std::size_t child = 2 * i + 1;
      if (child >= n) break;
      if (child + 1 < n && before(*heap_[child + 1], *heap_[child])) ++child;
      if (!before(*heap_[child], *t)) break;
      place(i, heap_[child]);
      i = child;
    }
    place(i, t);
  }

  std::vector<timer*> heap_;
  std::uint64_t next_sequence_ = 0;
};

}  // namespace coactor::detail
