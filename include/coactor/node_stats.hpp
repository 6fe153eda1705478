// coactor: node_stats, what a node has counted since it started (node::stats()).
#pragma once

#include <cstdint>

namespace coactor {

/// Counters since the node started. Each is exact once the node is idle.
struct node_stats {
  std::uint64_t processes = 0;       ///< processes alive now
  std::uint64_t spawned = 0;         ///< processes started
  std::uint64_t dead_letters = 0;    ///< messages dropped because their target does not exist
  std::uint64_t unread_dropped = 0;  ///< messages still queued when their process ended
  std::uint64_t stale_replies = 0;   ///< replies that came after their request had timed out
  std::uint64_t failures = 0;        ///< processes that ended by throwing
  std::uint64_t bad_frames = 0;      ///< frames from peers refused: malformed, undecodable, misrouted
};

}  // namespace coactor
