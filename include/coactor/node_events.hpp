// coactor: node_up and node_down, the messages a process that watches nodes (context::watch_nodes)
// receives when the node's transport makes or loses contact with another node (docs/faults.md).
#pragma once

#include <cstdint>
#include <string>

namespace coactor {

/// Contact with another node (this incarnation of it) was made.
struct node_up {
  std::uint64_t incarnation = 0;
  std::string address;  ///< empty when it does not listen
  std::string name;
};

/// Contact with that incarnation of the node was lost: it shut down, stopped answering heartbeats, or
/// restarted (a new incarnation comes up separately). `reason` says which.
struct node_down {
  std::uint64_t incarnation = 0;
  std::string address;
  std::string name;
  std::string reason;
};

}  // namespace coactor
