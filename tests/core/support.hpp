// Helpers shared by the core tests.
//
// Catch2 v2 assertions are not thread-safe: code that may run on a worker thread other than the test's
// own (processes of a node with threads > 1, foreign std::threads) records what it saw in plain data
// guarded by the node's own synchronisation (or atomics), and the test asserts after run() returns.
#pragma once

#include <coactor/coactor.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace coactor_test {

using namespace std::chrono_literals;

/// Collects what a node reports to its error hook (thread-safe).
class error_log {
 public:
  struct entry {
    std::error_code code;
    std::string detail;
    coactor::pid who;
  };

  explicit error_log(coactor::node& n) {
    n.on_error([this](const coactor::error& e, const coactor::pid& who) {
      std::lock_guard lock(mutex_);
      entries_.push_back({e.code(), e.detail(), who});
    });
  }

  std::vector<entry> entries() const {
    std::lock_guard lock(mutex_);
    return entries_;
  }
  std::vector<entry> of(coactor::errc code) const {
    std::vector<entry> found;
    for (auto& e : entries())
      if (e.code == coactor::make_error_code(code)) found.push_back(e);
    return found;
  }
  std::size_t count(coactor::errc code) const { return of(code).size(); }
  std::size_t size() const { return entries().size(); }

 private:
  mutable std::mutex mutex_;
  std::vector<entry> entries_;
};

/// Runs `n` until it returns on its own (every process ended, or a process called stop()), but no longer
/// than `limit`: then stops it. True if run() returned without the watchdog's help. A test that would
/// otherwise hang fails instead.
inline bool run_within(coactor::node& n, std::chrono::milliseconds limit = 10s) {
  std::mutex m;
  std::condition_variable cv;
  bool done = false;
  bool fired = false;
  std::thread watchdog([&] {
    std::unique_lock lock(m);
    if (!cv.wait_for(lock, limit, [&] { return done; })) {
      fired = true;
      n.stop();
    }
  });
  n.run();
  {
    std::lock_guard lock(m);
    done = true;
  }
  cv.notify_all();
  watchdog.join();
  return !fired;
}

/// Milliseconds elapsed since `start`, for generous bounds only.
inline double ms_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
}

/// A payload that counts its live instances, to check that a node frees what it holds.
struct tracked {
  static inline std::atomic<int> live{0};
  int value = 0;
  explicit tracked(int v = 0) noexcept : value(v) { live.fetch_add(1); }
  tracked(const tracked& o) noexcept : value(o.value) { live.fetch_add(1); }
  tracked(tracked&& o) noexcept : value(o.value) { live.fetch_add(1); }
  tracked& operator=(const tracked&) = default;
  ~tracked() { live.fetch_sub(1); }
};

/// A message carrying its sender's index and a sequence number.
struct seq_msg {
  int sender = 0;
  int seq = 0;
};

/// Asks a process to end.
struct quit {};

/// Signals between test processes.
struct go {};
struct done {};

/// A partial result, sent up to whoever spawned the sender.
struct subtotal {
  long value = 0;
};

// Message types live in this named namespace, not in anonymous ones: g++ 12 with -fsanitize=undefined
// cannot compile the wire name of a message type declared in an anonymous namespace.

}  // namespace coactor_test
