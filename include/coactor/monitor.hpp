// coactor: monitors. A process that monitors another (context::monitor) receives one `down` message
// when the other ends, whatever the reason, and does not end itself (unlike a link). See docs/faults.md.
//
// Ordering: the down message arrives after every message the monitored process sent to the monitoring
// one (on the same node, and across nodes over an ordered transport: tcp_pooled, loopback, the
// simulator). Once context::demonitor(ref) has returned, no down message for `ref` is delivered, and one
// already queued is removed.
#pragma once

#include <coactor/exit_reason.hpp>
#include <coactor/pid.hpp>

#include <cstdint>

namespace coactor {

/// Names one monitor; returned by context::monitor, carried by its down message.
struct monitor_ref {
  std::uint64_t id = 0;
  friend bool operator==(const monitor_ref&, const monitor_ref&) = default;
  explicit operator bool() const noexcept { return id != 0; }
};

/// The monitored process `process` ended with `reason` (noproc if it was already gone when the monitor
/// was set up; noconnection if its node went down).
struct down {
  monitor_ref ref;
  pid process;
  exit_reason reason;
};

}  // namespace coactor
