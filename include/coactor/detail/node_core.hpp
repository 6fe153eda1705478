// coactor detail: node_core, the runtime state of a node that processes reach through their control
// block: process table, registry, routing, error reporting, counters. The public face is `node`.
#pragma once

#include <coactor/codec.hpp>
#include <coactor/detail/envelope.hpp>
#include <coactor/detail/process_table.hpp>
#include <coactor/detail/siphash.hpp>
#include <coactor/detail/timer.hpp>
#include <coactor/detail/tracer.hpp>
#include <coactor/error.hpp>
#include <coactor/node_address.hpp>
#include <coactor/pid.hpp>
#include <coactor/result.hpp>
#include <coactor/scheduler.hpp>

#include <atomic>
#include <coroutine>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace coactor {
class node;
class transport;
struct node_stats;
struct process_name;
}  // namespace coactor

namespace coactor::detail {

class process_base;
class router;

/// std::hash over anything convertible to string_view, for heterogeneous lookup.
struct string_hash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};

class node_core {
 public:
  using error_hook = std::function<void(const error&, const pid&)>;

  /// `flush_timeout`: see node_options; `owns_scheduler`: the scheduler is the node's own, which it may
  /// stop when that time is up.
  node_core(coactor::node& owner, coactor::scheduler& s, std::string name, std::uint64_t incarnation,
            siphash_key pid_key, duration flush_timeout, bool owns_scheduler, tracer* t);
  ~node_core();
  node_core(const node_core&) = delete;
  node_core& operator=(const node_core&) = delete;

  coactor::node& owner() noexcept { return owner_; }
  coactor::scheduler& scheduler() noexcept { return sched_; }
  const std::string& name() const noexcept { return name_; }
  std::uint64_t incarnation() const noexcept { return incarnation_; }
  bool is_local(const pid& p) const noexcept { return p.incarnation() == incarnation_; }
  /// False when the node's scheduler is single-threaded: then its state needs no atomics or locks.
  bool concurrent() const noexcept { return concurrent_; }

  /// Gives `p` a pid, enters it in the table and schedules its first step. Takes ownership of `p`.
  pid start(process_base& p, std::coroutine_handle<> root);
  /// Tears down a process whose body finished. Called from its final suspension.
  void exit(process_base& p, std::exception_ptr failure) noexcept;

  /// Delivers `e` to the process `to`; takes ownership of `e` whatever happens. Thread-safe.
  /// What cannot be delivered is never lost silently: a request is answered with a failure reply, other
  /// traffic is counted as a dead letter and reported to the error hook.
  void route(const pid& to, envelope* e) noexcept;

  /// Delivers `e` to whatever process holds `target.name` on the node `target.node` (this node when
  /// empty or this node's own address). Takes ownership of `e`. Thread-safe.
  void route(const process_name& target, envelope* e) noexcept;

  /// route(), from a thread that may not be one of the scheduler's: on a single-threaded scheduler the
  /// delivery is handed to the scheduler's thread (in order, per calling thread).
  void route_from_outside(const pid& to, envelope* e);

  /// Disposes of an envelope that cannot reach `to`: a request is answered with a failure reply, other
  /// traffic becomes a dead letter.
  void undeliverable(const pid& to, envelope* e, errc why) noexcept;
  void undeliverable(const pid& to, envelope* e, const error& why) noexcept;

  /// Sends a failure reply (a coactor::error) for the request `tag` of `requester`.
  void fail_request(const pid& requester, std::uint64_t tag, const pid& from, error why) noexcept;

  /// Answers the request `req` (a message received by `self`) with the failure `why`; for a plain
  /// message, reports `why` instead. A code outside coactor's category becomes errc::rejected, so that
  /// the requester sees the same error whether it is on this node or another.
  void reply_error(const envelope* req, const pid& self, error why) noexcept;

  /// Counts and reports a message that could not be delivered (destroys it).
  void dead_letter(const pid& to, envelope* e, errc why) noexcept;

  void report(const error& e, const pid& who) noexcept;
  void set_error_hook(error_hook hook);

  result<void> register_name(std::string name, const pid& p);
  result<void> unregister_name(std::string_view name);
  result<pid> whereis(std::string_view name) const;

  coactor::node_stats stats() const noexcept;
  void count_stale_reply() noexcept { stale_replies_.fetch_add(1, std::memory_order_relaxed); }
  void count_dead_letter() noexcept { dead_letters_.fetch_add(1, std::memory_order_relaxed); }

  /// Expires when this node_core is destroyed. Work queued on a shared scheduler on behalf of this node
  /// (a delivery from outside, an Asio completion) checks it before touching the node or its processes.
  std::weak_ptr<const bool> lifetime() const noexcept { return lifetime_; }

  /// Connects the node to other nodes through `t` (once, before the node runs).
  void attach_transport(std::unique_ptr<transport> t, codec format, const decode_limits& limits);
  /// Starts accepting connections (needs a transport).
  result<node_address> listen(std::string_view address);
  /// Where this node accepts connections, as its pids and hello carry it; empty if it does not listen.
  std::string address() const;
  /// The same, as listen() returned it.
  node_address bound_address() const;
  /// Called by node::run(): when no process is alive, starts the flush deadline (node_options::flush_timeout).
  void idle_if_no_process() noexcept;
  /// Stops the transport; called when the node goes away.
  void shutdown_transport() noexcept;

 private:
  std::uint64_t new_process_id() noexcept;
  void destroy_all() noexcept;
  /// No process is left: gives the transport flush_timeout_ to deliver what it holds (see node_options).
  void start_flush_deadline() noexcept;
  static void on_flush_deadline(timer& t) noexcept;

  coactor::node& owner_;
  coactor::scheduler& sched_;
  const std::string name_;
  const std::uint64_t incarnation_;
  const siphash_key pid_key_;
  const bool concurrent_;
  std::atomic<std::uint64_t> pid_counter_{0};

  process_table table_;
  std::unique_ptr<router> router_;
  std::atomic<std::uint32_t> address_index_{0};  ///< this node's address in the address book, once it listens
  tracer* const tracer_;
  const duration flush_timeout_;
  const bool owns_scheduler_;
  timer flush_timer_;
  std::atomic<bool> flush_armed_{false};

  mutable std::mutex registry_mutex_;
  std::unordered_map<std::string, pid, string_hash, std::equal_to<>> registry_;
  std::unordered_map<std::uint64_t, std::string> names_;  ///< process id -> its registered name

  std::mutex hook_mutex_;
  std::shared_ptr<const error_hook> hook_;

  std::shared_ptr<const bool> lifetime_ = std::make_shared<const bool>(true);  ///< see lifetime()

  std::atomic<std::uint64_t> live_{0};
  std::atomic<std::uint64_t> spawned_{0};
  std::atomic<std::uint64_t> dead_letters_{0};
  std::atomic<std::uint64_t> unread_dropped_{0};
  std::atomic<std::uint64_t> stale_replies_{0};
  std::atomic<std::uint64_t> failures_{0};
};

}  // namespace coactor::detail
