// coactor transports: tcp_per_message, a TCP connection for every frame.
//
//     coactor::node n({.name = "n", .threads = 1,
//                      .transport = std::make_unique<coactor::tcp_per_message_transport>()});
//     n.listen("127.0.0.1:0");
//
// The contract every transport keeps: docs/transports.md. The listening side, the handshake and what
// is done with received frames are shared with tcp_pooled (coactor/transports/tcp/transport.hpp); this
// transport differs in how it sends, described here.
//
// The Factor post's behaviour ("all message sends open and close the TCP socket to the remote server per
// message"), kept as a baseline to measure tcp_pooled against. For every frame, the sending node
// connects to the peer's address, writes the preamble, its hello (which says "per-message") and the frame
// in one write, and waits for the peer's ack frame; the accepting node reads the peer's preamble and
// hello, then each frame: it delivers the frame to its node and answers with an ack (status 0, or the
// reason the node refused the frame). A peer that refuses (a bye instead of a hello, or a non-zero ack)
// makes the frame undeliverable with the peer's error.
//
// Pooled peers: a tcp_pooled node's connections to this node are read like any other (without acks: its
// hello does not ask for them) and closed when idle; this node sends to it, as to anyone, a connection
// per frame, and the pooled node acks them.
//
// Ordering:
//   * max_in_flight_per_peer == 1 (the default): frames for one peer are sent one at a time, in send()
//     order: the next connection is opened only when the previous frame's ack has arrived, and the peer
//     writes that ack only after it has delivered the frame to its node (into the target's mailbox). So
//     frames to one node are delivered in the order they were sent, and messages from one process to
//     another keep their order. A frame that fails does not hold up the next.
//   * max_in_flight_per_peer == N > 1: up to N frames to one peer travel at once, each on its own
//     connection; connections are independent, so a later frame may be delivered before an earlier one.
//     No ordering guarantee then, not even between two messages from one process to one process.
//
// TIME_WAIT: the side of a TCP connection that sends the first FIN keeps the connection in TIME_WAIT
// (60 s on Linux); tens of thousands of short connections in a row would exhaust the ephemeral ports.
// Here the sending side closes first, once it has read the ack (it has nothing more to say, and the
// peer has nothing more to answer), and it closes with SO_LINGER {on, 0}: the close sends an RST, not a
// FIN, so it keeps no TIME_WAIT and its port is free again at once. The accepting side never closes
// first: it reads until the sender's RST (or EOF) and then closes a connection that is already reset,
// which sends nothing and keeps no TIME_WAIT either. The RST cannot discard anything: the frame was
// acknowledged, and nothing else travels on the connection.
//
// Failures: connect refused or not within connect_timeout, or a handshake refused: the frame is
// undeliverable with errc::unreachable and the reason. No ack within ack_timeout: errc::timeout (the
// frame may or may not have arrived). A peer that does not listen (an empty address) cannot be reached:
// errc::unreachable at once (use tcp_pooled for nodes that do not listen). shutdown(): frames queued or
// in flight are undeliverable with errc::stopped. A frame over the frame limit: errc::too_large at
// once, never sent. A frame the peer refused after reading it (a non-zero ack): its code and reason.
//
// Failure detection (transport_host::peer_up/peer_down; docs/transports.md, rule 11): no connection lasts
// and no heartbeat flows, so a peer incarnation is up from a completed handshake (of a frame this node
// sends, or of one the peer sends), and found gone at the next frame sent to it that fails for want of it
// (connect refused or timed out, the connection lost before the ack, no ack in time, a bye saying it shut
// down): that frame goes back with its own error, the frames queued or in flight for that address as
// errc::node_down, then the incarnation up there is reported down. A hello from its address with another
// incarnation reports the old one down at once ("restarted").
//
// Threads: needs a node on a coactor::thread_pool (its io_context runs the sockets). send() may be called
// from any thread and never blocks.
#pragma once

#include <coactor/time.hpp>
#include <coactor/transports/tcp/transport.hpp>

#include <chrono>

namespace coactor {

struct tcp_per_message_options {
  /// Connecting must complete within this.
  duration connect_timeout = std::chrono::seconds(5);
  /// From connected to the frame's ack (the peer's handshake included).
  duration ack_timeout = std::chrono::seconds(30);
  /// Frames to one peer on the wire at once (see the ordering notes above). At least 1.
  unsigned max_in_flight_per_peer = 1;
  /// The accepting side closes (with a bye) a connection on which nothing was read or written for this long.
  duration idle_timeout = std::chrono::seconds(30);
  /// The bound of the queue per peer: frames waiting for a slot or on the wire without their ack. A
  /// frame that would take it past either bound is given back (errc::queue_full); has_room() says so
  /// first, and the host hears when there is room again (below half of both). At least 1 and 64 KiB.
  std::size_t max_queued_frames = std::size_t{1} << 20;
  std::size_t max_queued_bytes = std::size_t{256} << 20;
};

class tcp_per_message_transport final : public tcp::transport {
 public:
  explicit tcp_per_message_transport(tcp_per_message_options options = {});
};

}  // namespace coactor
