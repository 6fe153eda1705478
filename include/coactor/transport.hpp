// coactor: transport, how frames travel between nodes.
//
// The node core knows nothing about sockets. When a message is for a process of another node, the node
// encodes it into a frame (wire/frame.hpp) and gives the bytes to its transport; when a transport has a
// complete frame from a peer, it gives the bytes to the node. Transports share the framing and the
// handshake (wire/handshake.hpp) and differ only in how they use connections:
//
//   transports/tcp_per_message   a TCP connection per frame (the Factor post's behaviour, a baseline)
//   transports/tcp_pooled        one persistent connection per peer, writes coalesced into batches
//   transports/loopback          several nodes in one OS process, no sockets
//   transports/sim               the deterministic simulator's network
//
// Write your own by implementing this interface (a decorator that counts or delays frames around
// another transport is a few lines: see tests/transports/decorator.test.cpp).
//
// Threads: send() may be called from any scheduler thread at once; the host's functions may be called
// from any thread the transport runs on (normally the node scheduler's threads).
#pragma once

#include <coactor/codec.hpp>
#include <coactor/error.hpp>
#include <coactor/node_address.hpp>
#include <coactor/result.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace coactor {

class scheduler;

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

/// The node, as its transport sees it. Implemented by the node.
class transport_host {
 public:
  virtual ~transport_host() = default;
  /// This node. Its address is set once listen() succeeded.
  virtual const node_identity& identity() const noexcept = 0;
  /// The scheduler the node runs on (timers, work accounting, the thread pool's io_context).
  virtual coactor::scheduler& scheduler() noexcept = 0;
  /// A complete frame (length prefix included) from the peer `from`, as its handshake introduced it.
  /// Success: the node took the frame (delivered it, or answered for it: a request to a dead process gets
  /// a failure reply). An error: the node refused it after reading it (malformed body, unknown codec,
  /// invalid UTF-8, an out-of-range pid slot, a frame kind that carries no message); the node has already
  /// reported it (and answered a request whose tag and sender it could read). A transport that confirms
  /// frames to the sender (tcp_per_message's ack) passes the error on; others need do nothing with it.
  virtual result<void> deliver(const node_identity& from, std::string_view frame) = 0;
  /// A frame given to send() that will not arrive, and why. The node turns it into a failure reply (for
  /// a request) or a dead letter (for anything else).
  virtual void undeliverable(std::string_view frame, const error& why) = 0;
  /// A problem not tied to one frame: a peer that broke the protocol, a refused handshake.
  virtual void report(const error& what) = 0;
};

class transport {
 public:
  virtual ~transport() = default;

  /// Binds the transport to its node. Called once, before anything else.
  virtual void attach(transport_host& host) = 0;

  /// Starts accepting connections at `address` ("host:port"; port 0 picks a free port). Returns the
  /// address actually bound (127.0.0.1, 41234). errc::io with the reason if the address is in use.
  virtual result<node_address> listen(std::string_view address) = 0;

  /// Queues one complete frame for `peer`. Copies the bytes; never blocks. A frame that cannot be
  /// delivered comes back through transport_host::undeliverable, never silently.
  virtual void send(const peer_ref& peer, std::string_view frame) = 0;

  /// Stops accepting, gives up on what could not be sent (as undeliverable), closes every connection.
  /// Called by the node before it goes away; the transport must not call its host afterwards.
  virtual void shutdown() = 0;
};

}  // namespace coactor
