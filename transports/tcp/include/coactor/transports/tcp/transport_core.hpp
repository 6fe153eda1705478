// coactor tcp: transport_core, everything a TCP transport does except sending: listening, accepting,
// the handshake, the frames peers send, acks, reports, shutdown. Its connection_policy sends.
//
// The core runs *peer connections*: those it accepts, and those the policy opens through open(). On each:
//   * it greets the peer with this node's hello, which says the policy's mode (wire::connection_mode);
//   * it gives every data frame (message, request, reply, failure) to the host, in arrival order. On a
//     connection a per-message peer opened, it answers each with an ack carrying the status of
//     transport_host::deliver (0, or the refusal's code and detail), written after the delivery: the
//     sender's next frame waits for it. A pooled peer gets no acks.
//   * a bye from the peer: it stops taking frames, flushes and closes gracefully. Any other kind of frame
//     is a protocol violation: refused (a bye naming it, then the connection closes).
//   * nothing read or written for idle_timeout: it says bye (errc::timeout, "idle") and closes
//     gracefully. A heartbeat frame (both hellos announced heartbeats, connection.hpp) is consumed here:
//     never delivered, never acked.
//   * it reports what it refused (a protocol violation, an oversized frame) and an accepted connection
//     whose handshake failed.
// Sequenced streams (when both hellos say "sequenced", wire/handshake.hpp): a sender may number the data
// frames it sends on a connection (a resume frame gives the number of the next one, connection_policy
// decides). The core keeps, per peer incarnation, the newest stream it numbers and how far it was
// delivered: a frame numbered at or below that point came before (sent again on a new connection after
// the old one broke) and is dropped; a frame of an older stream is dropped (its sender gave it up when it
// began the newer one). Frames from one peer are delivered under its lock, so two connections from it
// (an old one still being read, the new one) cannot deliver out of order. What was delivered is
// acknowledged on the connection it came on (a received frame; connection::acknowledge), and the
// peer's acknowledgements of this node's frames go to the policy (connection_policy::acknowledged).
//
// Once the hello of an accepted connection from a pooled peer has arrived, the connection is offered
// to the policy, if it sends_on_accepted() (tcp_pooled sends back to that peer on it); a connection a
// per-message peer opened carries only acks back. When a connection closes, the policy gets back the
// frames it gave it that were not written (connection_policy::closed).
//
// Failure detection: the core keeps which peer incarnations are up, and tells the host (peer_up,
// peer_down) for both policies:
//   * up: the first completed handshake with an incarnation (any connection, or a policy's exchange:
//     peer_seen), before any frame from it is delivered; again after it was reported down.
//   * down (peer_lost), once per incarnation that was up: its heartbeats stopped (handlers::silent); it
//     said bye because it shut down (a bye with errc::stopped; this core says so to every peer at
//     shutdown); a hello from its address shows another incarnation ("restarted"); or its policy says it
//     is gone (tcp_pooled: no connection again within peer_timeout; tcp_per_message: a send failed).
//     First the policy gives up what it holds for the peer (connection_policy::forget), its connections
//     are closed, and every frame not known written goes back to the host (errc::node_down); then
//     peer_down. One peer event is told at a time, in the order decided, and never after shutdown.
//
// Threads and locks: the core's mutex guards its own state only (stopped, the listener, the connections);
// nothing is called under it. Starting a connection takes no lock. Host calls go through link(), which shutdown()
// closes: after it, the host is not called.
#pragma once

#include <coactor/transports/tcp/connection.hpp>
#include <coactor/transports/tcp/connection_policy.hpp>
#include <coactor/transports/tcp/host_link.hpp>
#include <coactor/transports/tcp/net.hpp>
#include <coactor/peer_stats.hpp>

#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <utility>

namespace coactor::tcp {

class transport_core : public std::enable_shared_from_this<transport_core> {
 public:
  /// A core whose policy is `Policy(core, args...)`. `name` names the transport in messages
  /// ("tcp_pooled"); `peer_options` are those of every peer connection.
  template <class Policy, class... Args>
  static std::shared_ptr<transport_core> make(std::string name, connection_options peer_options, Args&&... args) {
    auto core = std::make_shared<transport_core>(std::move(name), std::move(peer_options));
    core->policy_ = std::make_unique<Policy>(*core, std::forward<Args>(args)...);
    return core;
  }

  transport_core(std::string name, connection_options peer_options);
  ~transport_core();
  transport_core(const transport_core&) = delete;
  transport_core& operator=(const transport_core&) = delete;

  // ---- the transport's operations (tcp::transport) ----

  void attach(transport_host& host);
  result<node_address> listen(std::string_view address);
  void send(const peer_ref& peer, std::string_view frame);
  /// Idempotent. The policy gives up what it holds first, then every connection is closed.
  void shutdown();

  // ---- for the policy ----

  const std::string& name() const noexcept { return name_; }
  host_link& link() noexcept { return link_; }
  /// The io_context the sockets run on (the policy is only sent frames once there is one).
  asio::io_context& io() const noexcept { return *io_; }

  /// A peer connection on `s` (see above), not started yet, so that the policy can record it first;
  /// null once shut down.
  std::shared_ptr<connection> open(socket s, strand ex);
  /// Starts `conn` with this node's greeting (its identity, the policy's mode).
  void start(connection& conn);

  /// Frames that will not arrive: each to the host as undeliverable with `why`, and their work released.
  void give_up(const frame_queue& frames, const error& why);
  void report(const error& what);

  /// A handshake with `peer` completed (on a connection of the policy's own: the core sees the others),
  /// on a connection that is still in use if `in_use()` says so (asked once no other peer event is being
  /// told: a connection closed by a peer_down meanwhile does not bring its peer up again). Call without a
  /// lock of the policy's held, as for the three below.
  void peer_seen(const node_identity& peer, const std::function<bool()>& in_use = {});
  /// The incarnation is gone, for `why` (see above); nothing if it is not up.
  void peer_lost(std::uint64_t incarnation, const error& why);
  /// The incarnation up at `address` is gone; nothing if none is.
  void peer_lost_at(std::string_view address, const error& why);
  /// The incarnation up at `address`, 0 if none.
  std::uint64_t up_at(std::string_view address);

  /// transport::peers: the policy's counts (connection_policy::peers), with what was received.
  std::vector<peer_stats> peers() const;
  bool has_room(const peer_ref& peer) const { return policy_->has_room(peer); }
  /// Resets every peer connection (connection::reset) as a failing network would; returns how many. For
  /// tests and benchmarks (tcp::transport::break_connections).
  std::size_t break_connections();

  /// Sequenced streams: at most this many frames delivered from a peer before the acknowledgement goes
  /// out at once (otherwise it rides on the next write, or goes within connection_options::ack_delay).
  static constexpr std::uint64_t urgent_ack_after = 1024;

 private:
  /// What this node received from one peer incarnation (all its connections).
  struct inbound {
    std::mutex mutex;             // held while its frames are delivered
    node_identity peer;
    std::uint64_t stream = 0;     // the newest stream it numbered frames of (0: none)
    std::uint64_t delivered = 0;  // that stream's frames up to this number were delivered
    std::uint64_t received = 0;   // peer_stats
    std::uint64_t duplicates = 0;
  };
  /// One connection's reading side, on its strand.
  struct reading {
    std::shared_ptr<inbound> from;  // set at the hello
    std::uint64_t stream = 0;       // the stream its frames continue (the last resume frame); 0: not numbered
    std::uint64_t next = 0;         // the number of its next data frame
    std::uint64_t acknowledged = 0; // the last number acknowledged on it
  };

  connection::handlers handlers_for(bool accepted);
  void accepted(result<socket> s);
  void opened(connection& conn, const wire::hello& hello, bool accepted, reading& r);
  void dispatch(connection& conn, std::string_view frames, bool acked, reading& r);
  void closed(connection& conn, connection_end end, bool accepted);
  /// Tells the host that `peer` is down (the baton held): what is held for it goes back first.
  void tell_down(const node_identity& peer, const error& why);

  /// One peer event at a time: decided and told to the host while holding the baton (not a lock: a host
  /// call that comes back to the core on the same thread goes on, nested).
  class baton {
   public:
    explicit baton(transport_core& core);
    ~baton();
    baton(const baton&) = delete;
    baton& operator=(const baton&) = delete;

   private:
    transport_core& core_;
    bool nested_ = false;
  };

  const std::string name_;
  const connection_options peer_options_;
  std::unique_ptr<connection_policy> policy_;  // set by make(), then fixed
  host_link link_;
  asio::io_context* io_ = nullptr;             // set by attach(), then fixed
  error no_io_{std::error_code{}};             // why there is no io_context

  // What this node's hello says: attached_, then listening_ (with the address bound) once listen()
  // succeeded. Each is written once, before it is published here: start() reads it without a lock.
  std::atomic<const node_identity*> self_{nullptr};
  node_identity attached_;
  node_identity listening_;

  mutable std::mutex mutex_;
  bool stopped_ = false;
  std::shared_ptr<listener> listener_;
  struct peer_connection {
    std::shared_ptr<connection> conn;
    std::uint64_t incarnation = 0;  // from its hello; 0 until then
    bool acks = false;              // a per-message peer's: it carries only the core's acks
  };
  std::unordered_map<const connection*, peer_connection> connections_;  // peer connections not closed yet
  std::unordered_map<std::uint64_t, node_identity> up_;                 // incarnations reported up
  std::unordered_map<std::string, std::uint64_t> up_at_;                // the incarnation up at an address
  // Per peer incarnation, kept for the node's life (peer_stats; a few dozen bytes each).
  std::unordered_map<std::uint64_t, std::shared_ptr<inbound>> inbound_;

  std::mutex baton_mutex_;  // the baton's (never held while calling out)
  std::condition_variable baton_free_;
  std::thread::id baton_holder_;
  bool baton_held_ = false;
};

}  // namespace coactor::tcp
