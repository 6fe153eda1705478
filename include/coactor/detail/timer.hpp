// coactor detail: timer, an entry in a scheduler's timer queue.
//
// Intrusive: the entry lives inside whatever waits on it (a receive or sleep in a coroutine frame), so
// arming a timer allocates nothing. The scheduler calls `fire(*this)` once, at or after `deadline`, while
// it holds its timer lock; `fire` must be short and must not arm or disarm timers.
#pragma once

#include <coactor/time.hpp>

#include <cstddef>
#include <cstdint>

namespace coactor::detail {

struct timer {
  static constexpr std::size_t not_queued = ~std::size_t{0};

  time_point deadline{};
  void (*fire)(timer&) noexcept = nullptr;
  void* context = nullptr;             ///< for `fire`
  std::size_t heap_index = not_queued; ///< owned by the timer queue
  std::uint64_t sequence = 0;          ///< owned by the timer queue: FIFO order among equal deadlines

  bool queued() const noexcept { return heap_index != not_queued; }
};

}  // namespace coactor::detail
