// coactor: transport, how frames travel between nodes.
//
// The node core knows nothing about sockets. When a message is for a process of another node, the node
// encodes it into a frame (wire/frame.hpp) and gives the bytes to its transport; when a transport has a
// complete frame from a peer, it gives the bytes to the node. The transports of the project
// (transports/tcp_pooled, tcp_per_message, loopback, sim) share the framing and the handshake.
//
// This header is the API. What every transport promises (delivery or report, order, threads, the life
// cycle, error codes, frame sizes) is stated once, as numbered rules, in docs/transports.md, "The
// contract"; coactor::conformance::check() (transports/conformance) verifies each rule against any
// transport. Write your own by implementing `transport` (docs/transports.md, "Writing your own
// transport").
#pragma once

#include <coactor/codec.hpp>
#include <coactor/error.hpp>
#include <coactor/node_address.hpp>
#include <coactor/result.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace coactor {

class scheduler;
struct peer_stats;

/// Who a node is, as it introduces itself in the handshake.
struct node_identity {
  std::uint64_t incarnation = 0;  ///< random, new at every start
  std::string name;               ///< for logs
  std::string address;            ///< where it accepts connections ("host:port"); empty if it does not listen
  codec format = codec::binary;   ///< the codec it encodes its messages with
};

/// The address of the node a frame is for: its incarnation when known (0 otherwise, e.g. for a frame
/// to a registered name) and its address (empty when it does not listen: then only a connection the
/// peer opened can reach it).
struct peer_ref {
  std::uint64_t incarnation = 0;
  std::string_view address;
};

/// The node, as its transport sees it. Implemented by the node; called by the transport from any thread
/// it runs on, never while the transport holds a lock of its own (calls nest), never after shutdown().
class transport_host {
 public:
  virtual ~transport_host() = default;
  /// This node. Its address is set once listen() succeeded.
  virtual const node_identity& identity() const noexcept = 0;
  /// The scheduler the node runs on (timers, work accounting, the thread pool's io_context).
  virtual coactor::scheduler& scheduler() noexcept = 0;
  /// A complete frame (length prefix included) from the peer `from`, as its handshake introduced it.
  /// Success: the node took it. An error: the node read it and refused it (and has reported it); a
  /// transport that confirms frames to their sender passes the refusal back (contract, rule 8).
  virtual result<void> deliver(const node_identity& from, std::string_view frame) = 0;
  /// Gives back a frame given to send() that will not arrive, and why (contract, rule 2): the node turns
  /// it into a failed request or a dead letter.
  virtual void undeliverable(std::string_view frame, const error& why) = 0;
  /// A problem not tied to one frame: a peer that broke the protocol, a refused handshake.
  virtual void report(const error& what) = 0;

  // ---- failure detection (docs/faults.md) ----
  // A transport that knows when peers come and go tells the node, which then fires the monitors and
  // links of processes on that peer with `noconnection` and fails the requests pending there at once
  // (errc::node_down). Both have empty defaults: a transport that does not detect failures leaves them
  // uncalled, and its users fall back on timeouts.

  /// The first working connection with this incarnation of `peer` (its handshake completed), or the
  /// first after it was reported down. Called at most once per incarnation between two peer_down().
  virtual void peer_up(const node_identity& peer) { (void)peer; }
  /// This incarnation of `peer` is gone: it stopped answering heartbeats for the configured time, its
  /// connection broke and could not be made again in time, it said goodbye (shut down), or a newer
  /// incarnation of it appeared. Every frame for it that the transport still held has been given back
  /// through undeliverable() before this call. Called once per incarnation that was reported up.
  virtual void peer_down(const node_identity& peer, const error& why) {
    (void)peer;
    (void)why;
  }

  // ---- back-pressure (docs/faults.md, "Back-pressure") ----

  /// The transport's queue for `peer` (this incarnation, at this address) was found full (has_room()
  /// said false, or a frame was given back with errc::queue_full) and has room again. Empty default.
  virtual void room(const node_identity& peer) { (void)peer; }
};

class transport {
 public:
  virtual ~transport() = default;

  /// Binds the transport to its node. Called once, before anything else.
  virtual void attach(transport_host& host) = 0;

  /// Starts accepting connections at `address` ("host:port"; port 0 picks a free port). Returns the
  /// address actually bound (127.0.0.1, 41234); errc::io with the reason if it cannot be bound. Fails
  /// after shutdown().
  virtual result<node_address> listen(std::string_view address) = 0;

  /// Queues one complete frame for `peer`: delivered, or given back through
  /// transport_host::undeliverable, never lost silently (contract, rule 1). Copies the bytes; never
  /// blocks; callable from several threads at once.
  virtual void send(const peer_ref& peer, std::string_view frame) = 0;

  /// Stops accepting, gives back every frame it holds (errc::stopped), closes every connection. Called
  /// by the node's destructor; once it returns, the transport never calls its host again.
  virtual void shutdown() = 0;

  /// What it counted per peer incarnation (peer_stats.hpp, which callers include); empty for a transport
  /// that counts nothing. Callable from any thread.
  virtual std::vector<peer_stats> peers() const;

  /// False when the transport bounds what it queues for `peer` and that queue is full: send() would give
  /// the frame back with errc::queue_full. Once it said false, it calls transport_host::room() when there
  /// is room again. A transport that bounds nothing always has room (the default). Any thread.
  virtual bool has_room(const peer_ref& peer) const {
    (void)peer;
    return true;
  }
};

}  // namespace coactor
