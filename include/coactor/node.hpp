// coactor: node, a home for processes.
//
//     coactor::node node;                       // one worker thread per core
//     coactor::pid logger = node.spawn(log_body);
//     node.register_name("logger", logger);
//     node.send(logger, std::string("hello"));
//     node.run();                               // until stop() or every process has ended
//
// A node owns its processes, their pids (unguessable: a keyed hash of a counter, with a key drawn at
// start), a registry of names, and the routing of messages. Its processes run on a scheduler: by
// default a thread_pool of its own with `node_options::threads` workers (1 = single-threaded: everything
// on the thread that calls run()); or a scheduler shared with other nodes (the simulator does that).
//
// Threads: every member function is thread-safe, except that the node must not be destroyed while its
// scheduler runs. Destroying a node ends (destroys) the processes still alive, without running them.
//
// Errors: what cannot be delivered or ends badly (a message to a dead process, a process that throws or
// ends with unread mail) is counted in stats() and passed to the error hook with the pid concerned. The
// default hook prints one line to stderr.
#pragma once

#include <coactor/address_book.hpp>
#include <coactor/codec.hpp>
#include <coactor/context.hpp>
#include <coactor/detail/node_core.hpp>
#include <coactor/error.hpp>
#include <coactor/node_address.hpp>
#include <coactor/node_stats.hpp>
#include <coactor/peer_stats.hpp>
#include <coactor/pid.hpp>
#include <coactor/process_name.hpp>
#include <coactor/result.hpp>
#include <coactor/scheduler.hpp>
#include <coactor/transport.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace coactor {

class thread_pool;

/// How a node is made. Every member has a default, so name only those you change:
/// `coactor::node node({.name = "server", .threads = 1, .transport = ...})`.
struct node_options {
  /// A name for logs and for the node's identity.
  std::string name = "node";
  /// Workers of the node's own thread pool: 0 = one per hardware thread, 1 = single-threaded.
  /// Ignored when the node is given a scheduler.
  unsigned threads = 0;
  /// The node's incarnation; 0 = draw a random one (the normal case). Fixed values are for simulation.
  std::uint64_t incarnation = 0;
  /// The secret that process ids are derived from; all zero = draw a random one.
  std::uint64_t pid_key[2] = {0, 0};
  /// How this node reaches other nodes (transports/...); none: it talks to its own processes only.
  std::unique_ptr<coactor::transport> transport = nullptr;
  /// The codec this node encodes its messages with. Frames say their codec, so nodes with different
  /// codecs talk to each other.
  codec format = codec::binary;
  /// Bounds on what decoding one incoming message may cost.
  decode_limits limits = {};
  /// The address book that the addresses of other nodes' pids arriving here are entered in (see
  /// address_book.hpp); null: the process book. The node keeps the book alive as long as it lives.
  std::shared_ptr<coactor::address_book> addresses = nullptr;
  /// How long run() goes on, once no process is left, for the transport to deliver the frames it still
  /// holds (being connected for or written). When the time is up run() returns; the frames still held
  /// are reported as undeliverable (errc::stopped) when the node shuts down. The default waits as long
  /// as the transport keeps trying (each connection attempt is bounded by its connect timeout). Applies
  /// to a node with a thread pool of its own (on a shared scheduler, its owner decides when to stop).
  duration flush_timeout = duration::max();
  /// For the simulator: sees every message as it is delivered to a mailbox (detail/tracer.hpp).
  detail::tracer* tracer = nullptr;
};

class node {
 public:
  using error_hook = std::function<void(const error& what, const pid& who)>;

  /// A node with a thread_pool of its own.
  explicit node(node_options options = {});
  /// A node on a scheduler shared with others; the scheduler must outlive the node.
  explicit node(coactor::scheduler& s, node_options options = {});
  ~node();
  node(const node&) = delete;
  node& operator=(const node&) = delete;

  /// Starts a process running `body(context, args...)`, which must return coactor::process. `body` and
  /// `args` are moved or copied into the process and live as long as it does. The process first runs
  /// when the scheduler gets to it (run() must be running or be called). Thread-safe.
  template <class F, class... A>
  pid spawn(F&& body, A&&... args) {
    detail::admission entry(*sched_);
    return detail::spawn(*core_, std::forward<F>(body), std::forward<A>(args)...);
  }

  /// Sends `msg` to `to` from outside any process (the sender is the null pid). Never blocks.
  template <class T>
  void send(const pid& to, T&& msg) {
    core_->route_from_outside(to, detail::make_envelope<detail::payload_t<T>>(std::forward<T>(msg)));
  }

  /// Sends `msg` to whatever process holds `to.name` on the node at `to.address`, from outside any process.
  template <class T>
  void send(const process_name& to, T&& msg) {
    detail::envelope* e = detail::make_envelope<detail::payload_t<T>>(std::forward<T>(msg));
    if (to.address.empty() || to.address == core_->address()) {
      auto found = core_->whereis(to.name);
      if (found) return core_->route_from_outside(*found, e);
    }
    detail::admission entry(*sched_);
    core_->route(to, e);
  }

  /// Starts accepting connections from other nodes at `address` ("host:port"; port 0 picks a free
  /// port), as the Factor post's start-node. Returns the address bound (its `port` is the one picked).
  /// Needs node_options::transport. Call it before the node exchanges messages with other nodes.
  result<node_address> listen(std::string_view address) {
    detail::admission entry(*sched_);
    return core_->listen(address);
  }
  /// Where this node accepts connections (127.0.0.1, 41234); empty if it does not listen.
  node_address address() const { return core_->bound_address(); }

  /// The string form of `p` (see pid.hpp), with this node's address for its own processes.
  std::string to_string(const pid& p) const { return p.to_string(core_->is_local(p) ? core_->address() : std::string(p.address())); }

  /// Registers a live process of this node under `name`. Fails with errc::name_taken,
  /// errc::already_registered (a process has at most one name), errc::dead_process or errc::not_local.
  /// The name is freed when the process ends.
  result<void> register_name(std::string name, const pid& p) {
    detail::admission entry(*sched_);
    return core_->register_name(std::move(name), p);
  }
  /// Frees `name`; errc::no_such_name if it is not registered.
  result<void> unregister_name(std::string_view name) {
    detail::admission entry(*sched_);
    return core_->unregister_name(name);
  }
  /// The process registered under `name`, or errc::no_such_name.
  result<pid> whereis(std::string_view name) const { return core_->whereis(name); }

  /// Replaces the error hook. It is called on scheduler threads, possibly concurrently: keep it short
  /// and thread-safe. An empty hook silences reports (the counters still count). Its pid is the process
  /// of this node the report is about: one that ended (by an exception, with unread messages); for a
  /// message that could not be delivered, its target here, or its sender here when the target was on
  /// another node; a null pid for what concerns no process (a peer's malformed frame, a refused
  /// handshake). The default hook prints each report as a line on stderr.
  void on_error(error_hook hook) { core_->set_error_hook(std::move(hook)); }

  node_stats stats() const noexcept { return core_->stats(); }
  /// What the transport counted for each peer node incarnation (peer_stats.hpp): frames sent, delivered,
  /// failed and received. Empty without a transport, or with one that counts nothing.
  std::vector<peer_stats> peers() const { return core_->peers(); }

  /// Runs the scheduler on the calling thread (and the pool's other workers) until stop() or until no
  /// process is left and the transport holds no frame (see node_options::flush_timeout).
  void run() {
    core_->idle_if_no_process();
    sched_->run();
  }
  /// Makes run() return. Callable from any thread and from processes.
  void stop() noexcept { sched_->stop(); }

  /// Makes run() return when the program receives SIGINT or SIGTERM (Ctrl-C, `kill`), as stop() does;
  /// a second such signal then ends the program at once, as if this had not been called. Call it before
  /// run(). Needs a node on a thread_pool (its own, or a shared one); errc::not_local otherwise (the
  /// simulator). The signals are caught for the whole program while the node exists.
  result<void> stop_on_signals();

  const std::string& name() const noexcept { return core_->name(); }
  std::uint64_t incarnation() const noexcept { return core_->incarnation(); }
  coactor::scheduler& scheduler() noexcept { return *sched_; }

 private:
  node(coactor::scheduler* s, node_options options);

  std::unique_ptr<thread_pool> own_pool_;
  coactor::scheduler* sched_ = nullptr;
  std::unique_ptr<detail::node_core> core_;
  std::shared_ptr<void> signals_;  ///< the signal watch of stop_on_signals(), if any
};

}  // namespace coactor
