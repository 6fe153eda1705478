// coactor detail: mailbox, the queue of one process.
//
// Two parts:
//  - the inbox, a lock-free LIFO stack that any thread pushes onto with one CAS; it also holds the
//    process's wait state: the `blocked` sentinel means "the owner is suspended waiting for mail; whoever
//    replaces me must schedule it", the `closed` sentinel means "the owner has exited";
//  - the queue, a FIFO that only the owner touches: `fetch()` moves the whole inbox into it at once,
//    reversed back into arrival order. Selective receive scans the queue and unlinks what it takes, so
//    messages it skips stay queued in arrival order.
//
// Ordering: pushes are linearised by the CAS, and each batch is appended in push order, so the queue
// holds messages in the order they were pushed; in particular messages from one sender stay in order.
//
// `concurrent`: false when every push, fetch and block happens on one thread (a node on a
// single-threaded scheduler); the same steps then run with plain loads and stores instead of atomic
// read-modify-writes.
#pragma once

#include <coactor/detail/envelope.hpp>

#include <atomic>
#include <cstdint>

namespace coactor::detail {

class mailbox {
 public:
  enum class push_result { queued, woke_owner, closed };

  mailbox() noexcept = default;
  mailbox(const mailbox&) = delete;
  mailbox& operator=(const mailbox&) = delete;

  /// Any thread (if concurrent). On `woke_owner` the caller must schedule the owner; on `closed` the
  /// envelope was not taken (the caller still owns it).
  push_result push(envelope* e, bool concurrent) noexcept {
    envelope* old = inbox_.load(std::memory_order_relaxed);
    if (!concurrent) {
      if (old == closed()) return push_result::closed;
      e->next = old == blocked() ? nullptr : old;
      inbox_.store(e, std::memory_order_relaxed);
      return old == blocked() ? push_result::woke_owner : push_result::queued;
    }
    do {
      if (old == closed()) return push_result::closed;
      e->next = old == blocked() ? nullptr : old;
    } while (!inbox_.compare_exchange_weak(old, e, std::memory_order_acq_rel, std::memory_order_relaxed));
    return old == blocked() ? push_result::woke_owner : push_result::queued;
  }

  // ---- owner only ----

  /// Moves everything pushed so far to the end of the queue. Returns the first envelope moved, or null
  /// if the inbox was empty.
  envelope* fetch(bool concurrent) noexcept {
    if (inbox_.load(std::memory_order_relaxed) == nullptr) return nullptr;
    if (!concurrent) {
      envelope* lifo = inbox_.load(std::memory_order_relaxed);
      inbox_.store(nullptr, std::memory_order_relaxed);
      return append(lifo);
    }
    return append(inbox_.exchange(nullptr, std::memory_order_acquire));
  }

  /// Marks the owner as waiting if nothing has been pushed since the last fetch. False if mail arrived.
  bool try_block(bool concurrent) noexcept {
    envelope* expected = nullptr;
    if (!concurrent) {
      if (inbox_.load(std::memory_order_relaxed) != nullptr) return false;
      inbox_.store(blocked(), std::memory_order_relaxed);
      return true;
    }
    return inbox_.compare_exchange_strong(expected, blocked(), std::memory_order_acq_rel, std::memory_order_relaxed);
  }

  envelope* front() const noexcept { return head_; }

  /// Unlinks `e`, whose predecessor in the queue is `prev` (null if `e` is the front).
  void unlink(envelope* prev, envelope* e) noexcept {
    envelope* next = e->next;
    if (prev)
      prev->next = next;
    else
      head_ = next;
    if (tail_ == e) tail_ = prev;
    e->next = nullptr;
  }

  /// Closes the mailbox (later pushes fail) and returns everything it held, in arrival order.
  envelope* close() noexcept {
    envelope* lifo = inbox_.exchange(closed(), std::memory_order_acquire);
    append(lifo == blocked() ? nullptr : lifo);
    envelope* all = head_;
    head_ = tail_ = nullptr;
    return all;
  }

 private:
  // Appends a LIFO batch to the queue, reversed back into arrival order.
  envelope* append(envelope* lifo) noexcept {
    if (!lifo) return nullptr;
    envelope* first = nullptr;
    envelope* last = lifo;
    while (lifo) {
      envelope* next = lifo->next;
      lifo->next = first;
      first = lifo;
      lifo = next;
    }
    if (tail_)
      tail_->next = first;
    else
      head_ = first;
    tail_ = last;
    return first;
  }

  static envelope* blocked() noexcept { return reinterpret_cast<envelope*>(std::uintptr_t{1}); }
  static envelope* closed() noexcept { return reinterpret_cast<envelope*>(std::uintptr_t{2}); }

  std::atomic<envelope*> inbox_{nullptr};
  envelope* head_ = nullptr;
  envelope* tail_ = nullptr;
};

}  // namespace coactor::detail
