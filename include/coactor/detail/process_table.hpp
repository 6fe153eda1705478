// coactor detail: process_table, the processes of one node, indexed by the slot their pid carries.
//
// A slot map: entries live in segments that double in size and never move, so a lookup is two loads
// (segment, entry) and a comparison of the pid's random id with the entry's. A slot freed by an ended
// process is reused by a later one, which gets a new random id, so an old pid never reaches the new
// process: the slot is a hint, the id is the identity.
//
// Concurrent tables lock a stripe (by slot) around every lookup and change: a process is erased under
// its stripe, so a lookup's callback may use the control block it is given (push to its mailbox). A
// table of a node on a single-threaded scheduler is not `concurrent` and takes no locks.
#pragma once

#include <coactor/detail/spinlock.hpp>

#include <array>
#include <atomic>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <vector>

namespace coactor::detail {

class process_base;

class process_table {
 public:
  explicit process_table(bool concurrent) noexcept : concurrent_(concurrent) {}
  ~process_table() {
    for (auto& s : segments_) delete[] s.load(std::memory_order_relaxed);
  }
  process_table(const process_table&) = delete;
  process_table& operator=(const process_table&) = delete;

  /// Enters `p` under `id` (non-zero) and returns its slot.
  std::uint32_t insert(std::uint64_t id, process_base* p) {
    std::uint32_t slot;
    {
      guard g(alloc_lock_, concurrent_);
      if (!free_.empty()) {
        slot = free_.back();
        free_.pop_back();
      } else {
        slot = next_slot_;
        auto [segment, offset] = locate(slot);
        if (offset == 0) segments_[segment].store(new entry[segment_size(segment)], std::memory_order_release);
        ++next_slot_;
        used_.store(next_slot_, std::memory_order_release);
      }
    }
    guard g(stripe(slot), concurrent_);
    entry& e = at(slot);
    e.id = id;
    e.process = p;
    return slot;
  }

  /// Removes the process in `slot`.
  void erase(std::uint32_t slot) noexcept {
    {
      guard g(stripe(slot), concurrent_);
      entry& e = at(slot);
      e.id = 0;
      e.process = nullptr;
    }
    guard g(alloc_lock_, concurrent_);
    try {
      free_.push_back(slot);
    } catch (...) {
      // The slot is lost for reuse; nothing else is affected.
    }
  }

  /// Calls f(control block, or null unless `slot` holds `id`) with the slot's stripe locked; returns
  /// what f returns.
  template <class F>
  decltype(auto) with(std::uint32_t slot, std::uint64_t id, F&& f) {
    if (id == 0 || slot >= used_.load(std::memory_order_acquire)) return f(static_cast<process_base*>(nullptr));
    guard g(stripe(slot), concurrent_);
    const entry& e = at(slot);
    return f(e.id == id ? e.process : nullptr);
  }

  /// Calls f(control block) on every process, each under its stripe. Processes started or ended
  /// meanwhile may or may not be seen.
  template <class F>
  void for_each(F&& f) {
    const std::uint32_t used = used_.load(std::memory_order_acquire);
    for (std::uint32_t slot = 0; slot < used; ++slot) {
      guard g(stripe(slot), concurrent_);
      if (process_base* p = at(slot).process) f(*p);
    }
  }
  /// Removes every process, calling f(control block) on each. For shutdown: not thread-safe.
  template <class F>
  void drain(F&& f) {
    const std::uint32_t used = used_.load(std::memory_order_acquire);
    for (std::uint32_t slot = 0; slot < used; ++slot) {
      entry& e = at(slot);
      if (process_base* p = e.process) {
        e.id = 0;
        e.process = nullptr;
        f(p);
      }
    }
  }

 private:
  struct entry {
    std::uint64_t id = 0;
    process_base* process = nullptr;
  };

  class guard {
   public:
    guard(spinlock& l, bool active) noexcept : l_(active ? &l : nullptr) {
      if (l_) l_->lock();
    }
    ~guard() {
      if (l_) l_->unlock();
    }
    guard(const guard&) = delete;
    guard& operator=(const guard&) = delete;

   private:
    spinlock* l_;
  };

  struct alignas(64) padded_lock {
    spinlock lock;
  };

  // Segment k holds first_segment << k entries, starting at slot first_segment * (2^k - 1).
  static constexpr unsigned first_segment_bits = 10;
  static constexpr std::uint64_t first_segment = std::uint64_t{1} << first_segment_bits;
  static constexpr std::size_t segment_count = 32 - first_segment_bits + 1;  // covers every 32-bit slot

  struct position {
    std::size_t segment;
    std::size_t offset;
  };
  static position locate(std::uint32_t slot) noexcept {
    const std::uint64_t j = std::uint64_t{slot} + first_segment;
    const std::size_t k = static_cast<std::size_t>(std::bit_width(j)) - 1 - first_segment_bits;
    return {k, static_cast<std::size_t>(j - (first_segment << k))};
  }
  static std::size_t segment_size(std::size_t k) noexcept { return static_cast<std::size_t>(first_segment << k); }

  entry& at(std::uint32_t slot) noexcept {
    auto [segment, offset] = locate(slot);
    return segments_[segment].load(std::memory_order_acquire)[offset];
  }
  spinlock& stripe(std::uint32_t slot) noexcept { return stripes_[slot % stripes_.size()].lock; }

  const bool concurrent_;
  std::array<std::atomic<entry*>, segment_count> segments_{};
  std::atomic<std::uint32_t> used_{0};  ///< slots below this have a segment
  spinlock alloc_lock_;                 ///< guards free_ and next_slot_
  std::vector<std::uint32_t> free_;
  std::uint32_t next_slot_ = 0;
  std::array<padded_lock, 64> stripes_;
};

}  // namespace coactor::detail
