// coactor tcp: connection_policy, how a TCP transport sends: the one part in which tcp_pooled and
// tcp_per_message differ.
//
// The policy takes the frames given to transport::send and gets them to the peer: on connections it
// opens through transport_core::open (the core then runs them as it runs accepted ones: the policy only
// gives them frames), or on connections of its own (tcp_per_message's exchanges). Everything that comes
// in, and the listening side, is the core's (transport_core.hpp).
//
// Threads: send() from any thread, and it must not block; the connection events on the connection's
// strand; stop() from transport::shutdown. The core calls none of these under a lock of its own, so a
// policy may call the core, and its host (through transport_core::link), from them.
#pragma once

#include <coactor/peer_stats.hpp>
#include <coactor/transport.hpp>
#include <coactor/transports/tcp/connection.hpp>
#include <coactor/wire/handshake.hpp>

#include <string_view>
#include <vector>

namespace coactor::tcp {

class connection_policy {
 public:
  virtual ~connection_policy() = default;

  /// What this node's hellos say: how peers must treat the frames it sends them.
  virtual wire::connection_mode mode() const noexcept = 0;

  /// One frame for `peer` (transport::send): copied, queued, never silently lost (a frame that will not
  /// arrive goes back through transport_host::undeliverable). Only called once the host is attached to
  /// an io_context.
  virtual void send(const peer_ref& peer, std::string_view frame) = 0;

  /// Whether the policy also sends on connections a pooled peer opened (opened(), `accepted`).
  virtual bool sends_on_accepted() const noexcept { return false; }

  /// A connection's handshake completed: one the policy opened (transport_core::open), or, when it
  /// sends_on_accepted(), one a pooled peer opened (`accepted`). Frames may be given to it from now on.
  virtual void opened(connection& /*conn*/, const wire::hello& /*peer*/, bool /*accepted*/) {}

  /// A connection the core ran closed, other than one a per-message peer opened (which carries only the
  /// core's acks). `end.unwritten` holds the frames the policy gave it that were not written: the policy
  /// retries them or gives them up, and releases their work.
  virtual void closed(connection& /*conn*/, connection_end& /*end*/) {}

  /// The incarnation `peer` is down (transport_core::peer_lost): the policy drops what it knows of it,
  /// closes the connections it opened or sends on for it (abort, so that they call nothing), and returns
  /// every frame it held for it that is not known written, in the order given, for the core to give back
  /// before peer_down. Called without the core's locks, never after stop().
  virtual frame_queue forget(const node_identity& /*peer*/) { return {}; }

  /// The peer acknowledged the frames of stream `at.stream` up to number `at.seq` (sequenced streams,
  /// transport_core.hpp). On the strand of the connection it came on.
  virtual void acknowledged(const node_identity& /*peer*/, wire::stream_position /*at*/) {}

  /// The policy's counts per peer: sent, delivered and failed (transport::peers). Any thread.
  virtual std::vector<peer_stats> peers() const { return {}; }

  /// transport::has_room. Any thread.
  virtual bool has_room(const peer_ref& /*peer*/) { return true; }

  /// transport::shutdown: takes no more frames; gives up every frame it holds (queued, or given to a
  /// connection and not known written: it aborts those connections) as errc::stopped. The host is still
  /// reachable during the call.
  virtual void stop() = 0;
};

}  // namespace coactor::tcp
