// coactor detail: node_core, the runtime state of a node that processes reach through their control
// block: its process table, the lifecycle of its processes, and the routing of their messages. It holds
// by value the parts it delegates to: the registry of names (registry.hpp), the counters behind stats()
// (node_counters.hpp) and the error hook (error_reporter.hpp). What routing does with what it cannot
// deliver (failure replies, dead letters) is in src/delivery_failures.cpp. The public face is `node`.
#pragma once

#include <coactor/codec.hpp>
#include <coactor/detail/envelope.hpp>
#include <coactor/detail/error_reporter.hpp>
#include <coactor/detail/node_counters.hpp>
#include <coactor/detail/process_table.hpp>
#include <coactor/detail/registry.hpp>
#include <coactor/detail/siphash.hpp>
#include <coactor/detail/timer.hpp>
#include <coactor/detail/tracer.hpp>
#include <coactor/detail/watch.hpp>
#include <coactor/exit_reason.hpp>
#include <coactor/peer_stats.hpp>
#include <coactor/error.hpp>
#include <coactor/node_address.hpp>
#include <coactor/node_stats.hpp>
#include <coactor/pid.hpp>
#include <coactor/result.hpp>
#include <coactor/scheduler.hpp>

#include <atomic>
#include <coroutine>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>
#include <string_view>
#include <utility>

namespace coactor {
class node;
class transport;
struct process_name;
struct node_identity;
}  // namespace coactor

namespace coactor::detail {

class process_base;
class router;

class node_core {
 public:
  using error_hook = error_reporter::hook;

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
  /// With `link` (a live process of this node), the two are linked before `p` can run.
  pid start(process_base& p, std::coroutine_handle<> root, const pid* link = nullptr);
  /// Tears down a process whose body finished. Called from its final suspension.
  void exit(process_base& p, std::exception_ptr failure) noexcept;

  /// Delivers `e` to the process `to`; takes ownership of `e` whatever happens. Thread-safe.
  /// What cannot be delivered is never lost silently: a request is answered with a failure reply, other
  /// traffic is counted as a dead letter and reported to the error hook.
  void route(const pid& to, envelope* e) noexcept;

  /// Delivers `e` to whatever process holds `target.name` on the node `target.node` (this node when
  /// empty or this node's own address). Takes ownership of `e`. Thread-safe.
  void route(const process_name& target, envelope* e) noexcept;

  // ---- bounded mailboxes (context::limit_mailbox, try_send, send_when_room) ----

  enum class offer_result { delivered, full, gone };
  /// Delivers `e` to the local process `to` unless its mailbox is full or it is gone; takes `e` only
  /// when delivered. With `waiter`, a full mailbox queues the waiter for room (a `room` envelope, with a
  /// place kept for it: then offer again with `granted`).
  offer_result offer(const pid& to, envelope* e, const pid* waiter = nullptr, bool granted = false) noexcept;
  /// The waiter gives up waiting for room in `to` (timeout, or it ends): out of the queue, or the place
  /// it was granted goes to the next waiter.
  void cancel_room_wait(const pid& to, const pid& waiter) noexcept;
  /// The process took a counted message from its queue: a place is free.
  void took_message(process_base& p) noexcept;
  /// Sets the process's limit (0: none).
  void limit_mailbox(process_base& p, std::uint32_t limit) noexcept;

  // ---- back-pressure towards other nodes (src/bounded_mailbox.cpp) ----

  /// Whether the transport's queue for the node of `to` (a pid of another node) has room.
  bool has_room_for(const pid& to) const noexcept;
  /// Keeps `e` (for `to`, a pid of another node; sent by the process `waiter`) until the transport has
  /// room for that node: then it is sent, in the order parked, and `waiter` gets a `room` envelope.
  /// Takes `e`.
  void park(const pid& to, envelope* e, const pid& waiter) noexcept;
  /// Takes back what `waiter` parked; null if it was sent meanwhile.
  envelope* unpark(const pid& waiter) noexcept;
  /// transport_host::room, and a peer down (its frames are then given back by the transport as they go):
  /// sends what was parked for the incarnation (or, when `address` is not empty, for pids at that
  /// address), while the transport has room.
  void room(std::uint64_t incarnation, std::string_view address, bool regardless = false) noexcept;

  /// route(), from a thread that may not be one of the scheduler's: on a single-threaded scheduler the
  /// delivery is handed to the scheduler's thread (in order, per calling thread).
  void route_from_outside(const pid& to, envelope* e);

  // ---- what cannot be delivered (src/delivery_failures.cpp) ----

  /// Disposes of an envelope that cannot reach `to`: a request is answered with a failure reply, other
  /// traffic becomes a dead letter (counted, and reported about `to` if it is local, else the sender).
  void undeliverable(const pid& to, envelope* e, errc why) noexcept;
  void undeliverable(const pid& to, envelope* e, const error& why) noexcept;

  /// Sends a failure reply (a coactor::error) for the request `tag` of `requester`.
  void fail_request(const pid& requester, std::uint64_t tag, const pid& from, error why) noexcept;

  /// Answers the request `req` (a message received by `self`) with the failure `why`; for a plain
  /// message, reports `why` instead. A code outside coactor's category becomes errc::rejected, so that
  /// the requester sees the same error whether it is on this node or another.
  void reply_error(const envelope* req, const pid& self, error why) noexcept;

  /// Passes `e` to the error hook (see error_reporter); `who` is the process of this node it concerns.
  void report(const error& e, const pid& who) noexcept { errors_.report(e, who); }
  void set_error_hook(error_hook hook) { errors_.set_hook(std::move(hook)); }

  // ---- names (see registry) ----

  /// Registers the live local process `p` as `name` (node::register_name).
  result<void> register_name(std::string name, const pid& p);
  result<void> unregister_name(std::string_view name);
  result<pid> whereis(std::string_view name) const { return registry_.whereis(name); }

  // ---- counters ----

  coactor::node_stats stats() const noexcept;
  void count_stale_reply() noexcept { counters_.count_stale_replies(1); }
  void count_dead_letter() noexcept { counters_.count_dead_letter(); }

  /// Expires when this node_core is destroyed. Work queued on a shared scheduler on behalf of this node
  /// (a delivery from outside, an Asio completion) checks it before touching the node or its processes.
  std::weak_ptr<const bool> lifetime() const noexcept { return lifetime_; }

  /// Connects the node to other nodes through `t` (once, before the node runs).
  void attach_transport(std::unique_ptr<transport> t, codec format, const decode_limits& limits,
                        std::shared_ptr<address_book> addresses);
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
  /// The transport's counts per peer (transport::peers); empty without a transport.
  std::vector<peer_stats> peers() const;

  /// The index of `address` in the node's address book (0 if the node has no transport or it is full).
  std::uint32_t address_index(std::string_view address) noexcept;

  // ---- monitors, links, exit signals and other nodes coming and going (src/signals.cpp) ----

  /// `self` starts monitoring `target` (see monitor.hpp): one down message when it ends.
  std::uint64_t monitor(process_base& self, const pid& target);
  std::uint64_t monitor(process_base& self, const process_name& target);
  /// Cancels the monitor `ref` of `self` and removes its down message if one is queued.
  void demonitor(process_base& self, std::uint64_t ref);
  /// Links `self` and `other` (both directions), or unlinks them.
  void link(process_base& self, const pid& other);
  void unlink(process_base& self, const pid& other);
  /// Sends an exit signal from `from` to `to`.
  void send_exit(const pid& from, const pid& to, exit_reason reason, exit_via via);
  /// Turns node_up / node_down messages to `self` on or off.
  void watch_nodes(process_base& self, bool on);
  /// A signal from another node (the router decoded `e`, a signal_message for `to`; `missing` is why
  /// `to` cannot be reached, if it cannot). Takes ownership of `e`.
  void take_signal(const pid& to, errc missing, envelope* e) noexcept;
  /// One of this node's signals came back from the transport: `to` cannot be reached.
  void signal_undeliverable(const pid& from, const pid& to, const signal_message& s) noexcept;
  void peer_up(const node_identity& peer) noexcept;
  void peer_down(const node_identity& peer, const error& why) noexcept;

 private:
  std::uint64_t new_process_id() noexcept;
  /// The other half of a link made at start: `parent` links to the new, not yet running, `child`.
  void link_started(const pid& parent, const pid& child);
  /// What ending `p` with `why` does to its monitors and links (src/signals.cpp). `p` is out of the table.
  void fire_watches(process_base& p, const exit_reason& why) noexcept;
  /// Delivers the down message of monitor `ref` of the local `watcher` about `target`, unless the
  /// monitor was cancelled meanwhile.
  void deliver_down(const pid& watcher, std::uint64_t ref, const pid& target, const exit_reason& why) noexcept;
  /// Delivers an exit signal to the local process `to`.
  void deliver_exit(const pid& to, const pid& from, const exit_reason& why, exit_via via) noexcept;
  /// Sends a signal to a process of another node.
  void send_signal(const pid& from, const pid& to, signal_message s) noexcept;
  /// Pushes `e` to `p`'s mailbox under its stripe (inside process_table::with); true if taken. `woken`
  /// is set when the caller must schedule `p` (after leaving the stripe).
  bool push_locked(process_base& p, envelope* e, process_base*& woken) noexcept;
  /// push_locked() for a plain message or request, which a limited mailbox counts: `full` when there
  /// is no place (and none `granted`).
  offer_result admit_locked(process_base& p, envelope* e, process_base*& woken, bool granted) noexcept;
  /// Gives the next waiter for room in `p` a place (under p's stripe); returns it (null if none).
  static pid grant_room_locked(process_base& p) noexcept;
  /// Tells `waiter` it has a place.
  void send_room(const pid& waiter) noexcept;
  /// The monitors and links that local processes hold on processes of other nodes, by node incarnation:
  /// what fires with noconnection when that node goes down.
  struct remote_watch {
    pid local;
    pid remote;
    std::uint64_t ref = 0;  ///< the monitor, 0 for a link
  };
  void add_remote_watch(const remote_watch& w);
  void drop_remote_watch(const pid& local, const pid& remote, std::uint64_t ref) noexcept;

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

  registry registry_;
  error_reporter errors_;

  std::shared_ptr<const bool> lifetime_ = std::make_shared<const bool>(true);  ///< see lifetime()

  node_counters counters_;

  std::atomic<std::uint64_t> monitor_counter_{0};
  std::mutex watch_mutex_;  ///< guards remote_watches_ and node_watchers_
  struct parked_send {
    pid to;
    pid waiter;
    envelope* e;
  };
  std::mutex parked_mutex_;
  std::vector<parked_send> parked_;  ///< send_when_room to other nodes, in the order parked
  std::unordered_map<std::uint64_t, std::vector<remote_watch>> remote_watches_;
  /// Monitors of names on other nodes, whose incarnation is not known: by the node's address.
  struct name_watch {
    pid local;
    std::string address;
    std::uint64_t ref = 0;
  };
  std::vector<name_watch> name_watches_;
  std::vector<pid> node_watchers_;
};

}  // namespace coactor::detail
