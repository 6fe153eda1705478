// coactor transports: tcp_pooled, one persistent TCP connection per pair of nodes.
//
// The contract every transport keeps: docs/transports.md. The listening side, the handshake and what
// is done with received frames are shared with tcp_per_message (coactor/transports/tcp/transport.hpp);
// this transport differs in how it sends, described here.
//
//     coactor::node server({.name = "server", .threads = 1,
//                           .transport = std::make_unique<coactor::tcp_pooled_transport>()});
//     auto address = server.listen("127.0.0.1:0");   // "127.0.0.1:41234"
//
// Connections. The first frame for a node opens a connection to its address; every later frame to that
// node, from any process, goes on the same connection. A connection a pooled peer opened to this node is
// used to send back to that peer once its hello arrived (the peer is known by its incarnation): so a node
// that does not listen still gets replies, and two nodes that talk both ways usually share one
// connection. Each connection starts with the handshake (preamble and hello, wire/handshake.hpp); frames
// for a peer wait until its hello has arrived.
//
// Writes are coalesced: frames queued while a write is in flight go out together in the next one (up to
// max_batch_bytes), so under load a syscall carries many frames. TCP_NODELAY is set.
//
// Ordering: frames to one peer are written in the order send() was called, on one connection at a time;
// so messages from one process to another arrive in the order they were sent (with the node's own
// per-sender ordering, that is the Erlang guarantee). When a connection is replaced (closed when idle,
// or broken), the new connection is opened only after the old one has closed: an idle close is a
// handshake of its own (the idle side sends a bye; the other flushes what it queued, then shuts its
// sending side; the idle side, having read all of it, closes), so nothing written on the old connection
// is overtaken.
//
// Failures, and what the host hears:
//   * connect refused, timed out (connect_timeout), or the handshake refused: every frame queued for that
//     peer comes back through transport_host::undeliverable with errc::unreachable and the reason.
//   * a connection that breaks while both nodes are up: nothing is lost or duplicated. The frames to a
//     peer incarnation are a numbered stream, each kept until the peer acknowledges it; a new connection
//     (dialled again at once, then with backoff) resumes the stream at the first frame not acknowledged,
//     and the peer drops what it had delivered already (docs/protocol.md, "Sequenced streams"). A peer
//     that is not back within peer_timeout is down, and every frame it had not acknowledged is
//     undeliverable (errc::node_down). With a peer whose hello does not say "sequenced", frames not yet
//     written are sent again, and a count of those written on a connection that broke goes to
//     transport_host::report (they may be lost).
//   * a peer that does not listen and whose connection to this node has closed: its frames are
//     undeliverable (errc::unreachable) at once.
//   * shutdown(): frames queued or being written are undeliverable with errc::stopped.
//   * a frame over the frame limit (wire::frame_limits) is undeliverable at once (errc::too_large), never
//     written: the peer would refuse it and close the connection under the frames behind it.
//   * a frame for a peer whose queue is full (max_queued_frames, max_queued_bytes: frames waiting or not
//     acknowledged) is undeliverable at once (errc::queue_full). has_room() tells beforehand (try_send
//     and send_when_room use it), and transport_host::room() when the queue is below half again.
// A peer violating the protocol (not coactor, another version, a bad hello, an oversized frame) is
// refused with a bye frame naming the reason and reported.
//
// Failure detection (transport_host::peer_up/peer_down; docs/transports.md, rule 11). A peer incarnation is
// up from its first completed handshake. Heartbeats: when both hellos announce them (heartbeat_interval
// here; "heartbeat" in wire/handshake.hpp), each side writes a heartbeat frame on a connection on which it
// has written nothing for heartbeat_interval, and a peer from which nothing at all arrived for
// peer_timeout (at least 1.5 times the interval it announced) is declared down. A peer that announces
// none (an older node, a client, heartbeat_interval zero) is never declared down for silence; and a
// connection with heartbeats is never idle, so it stays open while both nodes live. It is also down
// when it says goodbye (this transport says so in a bye at shutdown), when its connection breaks (or
// closes, for a peer that does not listen, or a new one to it fails) and no connection to it works again
// within peer_timeout (frames for it wait meanwhile; this node dials again), and when a hello from its
// address names a new incarnation ("restarted"). Frames still held for it (queued, or given to its
// connection and not known written) are undeliverable with errc::node_down before peer_down.
//
// Per-message peers: a tcp_per_message node's frames are received and acked (its hello says it wants
// acks), and its connections are not used to send back: frames for it go on a connection this node
// opens to its address, so it must listen to be answered.
//
// Counts: peers() (node::peers()) gives per peer incarnation the frames sent, delivered (acknowledged),
// failed (given back), received and dropped as duplicates (peer_stats.hpp).
//
// Threads: needs a node on a coactor::thread_pool (its io_context runs the sockets; frames are delivered
// on the pool's workers). send() may be called from any thread and never blocks.
#pragma once

#include <coactor/time.hpp>
#include <coactor/transports/tcp/transport.hpp>

#include <chrono>
#include <cstddef>

namespace coactor {

struct tcp_pooled_options {
  /// A connection on which nothing was read or written for this long is closed (gracefully).
  duration idle_timeout = std::chrono::seconds(30);
  /// Connecting, and each side's handshake, must complete within this.
  duration connect_timeout = std::chrono::seconds(5);
  /// At most this many bytes of frames per write (a larger frame goes alone).
  std::size_t max_batch_bytes = std::size_t{1} << 20;
  /// A heartbeat goes on a connection on which nothing was written for this long (announced in the
  /// hello). Zero: no heartbeats, and none asked of peers. Shorter than peer_timeout.
  duration heartbeat_interval = std::chrono::seconds(1);
  /// A peer is declared down when nothing arrived from it for this long (with heartbeats), or when its
  /// connection broke and none worked again for this long. At least 100 ms.
  duration peer_timeout = std::chrono::seconds(3);
  /// The bound of the queue per peer: frames waiting for a connection or not acknowledged yet. A frame
  /// that would take it past either bound is given back (errc::queue_full); has_room() says so first,
  /// and the host hears when there is room again (below half of both). At least 1 frame and 64 KiB.
  std::size_t max_queued_frames = std::size_t{1} << 20;
  std::size_t max_queued_bytes = std::size_t{256} << 20;
};

class tcp_pooled_transport final : public tcp::transport {
 public:
  /// Throws std::invalid_argument if peer_timeout is under 100 ms, or heartbeat_interval is not zero and
  /// not shorter than peer_timeout.
  explicit tcp_pooled_transport(tcp_pooled_options options = {});
};

}  // namespace coactor
