// coactor tcp: host_link, how a transport reaches its host, and stops reaching it.
//
// The transport contract (transport.hpp) says the host must not be called once shutdown() returned, while
// Asio handlers of the transport may still be running on other threads (a scheduler shared by several
// nodes) or may run later (the io_context runs again, or destroys its pending handlers). Every host call
// therefore goes through call(): it runs unless close() has started, and close() waits for the calls in
// progress on other threads. Calls may nest on one thread (deliver -> a process replies -> send ->
// undeliverable): a nested call does not wait.
//
// It also keeps the transport's scheduler work (scheduler::work_started/work_finished): hold() while
// frames are queued, being connected for or written, release() when they are written or given up; the
// scheduler sees one unit while any is held, so node.run() does not return before queued frames are
// flushed. close() releases what is held.
#pragma once

#include <coactor/transport.hpp>

#include <condition_variable>
#include <cstddef>
#include <mutex>

namespace coactor {
class scheduler;
}

namespace coactor::tcp {

class host_link {
 public:
  /// Binds the link to its host (transport::attach).
  void attach(transport_host& host);

  /// Runs `fn(transport_host&)` unless the link is closed (or not attached). True if it ran.
  template <class F>
  bool call(F&& fn) {
    entry e(*this);
    if (!e.entered) return false;
    fn(*host_);
    return true;
  }

  /// The host, for the transport's own synchronous calls made from shutdown() before close().
  transport_host* host() const noexcept { return host_; }
  /// The host's scheduler (valid after attach()).
  coactor::scheduler* scheduler() const noexcept { return scheduler_; }

  /// Holds `n` units of work for queued frames; false (nothing held) once closed.
  bool hold(std::size_t n = 1);
  /// Releases `n` units held by hold(). Ignored once closed.
  void release(std::size_t n = 1);

  /// From now on call() does nothing; waits for calls in progress on other threads; releases held work.
  /// Idempotent.
  void close();
  bool closed() const;

 private:
  struct entry {
    explicit entry(host_link& l);
    ~entry();
    host_link& link;
    bool entered = false;
    bool nested = false;
  };

  transport_host* host_ = nullptr;
  coactor::scheduler* scheduler_ = nullptr;
  mutable std::mutex mutex_;
  std::condition_variable idle_;
  int active_ = 0;          // calls in progress (outermost ones)
  bool closed_ = false;
  std::size_t held_ = 0;    // units of work held
};

}  // namespace coactor::tcp
