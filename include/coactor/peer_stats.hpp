// coactor: peer_stats, what a transport counted for one peer node (node::peers(), transport::peers()).
#pragma once

#include <coactor/transport.hpp>

#include <cstdint>

namespace coactor {

/// Data frames (messages, requests, replies, failures; not the transport's own frames) exchanged with one
/// incarnation of a peer node since the transport started.
///
/// The invariant: once nothing is on its way (in_flight() == 0), sent == delivered + failed, on this side;
/// and the peer's `received` from this node equals this side's `delivered` (each frame arrives once: one
/// sent again after a broken connection is dropped there as a duplicate). A frame counts as delivered
/// when the peer acknowledged it (tcp_pooled's sequenced streams), or, with a peer that acknowledges
/// nothing, when it was written whole.
struct peer_stats {
  node_identity peer;             ///< as its hello said; only its address if no hello came
  std::uint64_t sent = 0;         ///< frames given to the transport for it
  std::uint64_t delivered = 0;    ///< of those, delivered (see above)
  std::uint64_t failed = 0;       ///< of those, given back through transport_host::undeliverable
  std::uint64_t received = 0;     ///< frames from it delivered to this node
  std::uint64_t duplicates = 0;   ///< frames from it dropped as delivered already (sent again)
  std::uint64_t queued_bytes = 0; ///< the bytes of the frames in flight that the transport holds now
  /// Frames on their way: neither delivered nor given back yet.
  std::uint64_t in_flight() const noexcept { return sent - delivered - failed; }
};

}  // namespace coactor
