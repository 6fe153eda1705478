// coactor detail: node_counters, the counts behind node::stats().
//
// Threads: every member is thread-safe and lock-free (relaxed atomics: a count is exact once the node is
// idle, and orders nothing). Counting is on the paths of spawn, exit and failed deliveries, so it is
// all inline.
#pragma once

#include <coactor/node_stats.hpp>

#include <atomic>
#include <cstdint>

namespace coactor::detail {

class node_counters {
 public:
  void process_started() noexcept {
    live_.fetch_add(1, std::memory_order_relaxed);
    spawned_.fetch_add(1, std::memory_order_relaxed);
  }
  /// True when the process that ended was the last one alive.
  bool process_ended() noexcept { return live_.fetch_sub(1, std::memory_order_relaxed) == 1; }
  std::uint64_t live() const noexcept { return live_.load(std::memory_order_relaxed); }

  void count_dead_letter() noexcept { dead_letters_.fetch_add(1, std::memory_order_relaxed); }
  void count_unread_dropped(std::uint64_t n) noexcept { unread_dropped_.fetch_add(n, std::memory_order_relaxed); }
  void count_stale_replies(std::uint64_t n) noexcept { stale_replies_.fetch_add(n, std::memory_order_relaxed); }
  void count_failure() noexcept { failures_.fetch_add(1, std::memory_order_relaxed); }

  /// The counts now; `bad_frames` is counted by the router, which passes it in.
  coactor::node_stats stats(std::uint64_t bad_frames) const noexcept {
    coactor::node_stats s;
    s.processes = live_.load(std::memory_order_relaxed);
    s.spawned = spawned_.load(std::memory_order_relaxed);
    s.dead_letters = dead_letters_.load(std::memory_order_relaxed);
    s.unread_dropped = unread_dropped_.load(std::memory_order_relaxed);
    s.stale_replies = stale_replies_.load(std::memory_order_relaxed);
    s.failures = failures_.load(std::memory_order_relaxed);
    s.bad_frames = bad_frames;
    return s;
  }

 private:
  std::atomic<std::uint64_t> live_{0};
  std::atomic<std::uint64_t> spawned_{0};
  std::atomic<std::uint64_t> dead_letters_{0};
  std::atomic<std::uint64_t> unread_dropped_{0};
  std::atomic<std::uint64_t> stale_replies_{0};
  std::atomic<std::uint64_t> failures_{0};
};

}  // namespace coactor::detail
