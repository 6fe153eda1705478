// coactor wire: the handshake every connection starts with.
//
// Each side sends, as soon as the connection is up, the preamble (frame.hpp) and a hello frame:
//
//   u64     incarnation of the sending node
//   string  node name
//   string  the address where it accepts connections (empty if it does not listen)
//   u8      the codec it encodes messages with (frames say their own codec; this is informative)
//   u32     capability flags (none defined yet; reserved for authentication and TLS, sent as 0)
//   varint  count of extensions, then that many (string key, string value) pairs; unknown keys are
//           ignored. Room for what comes later (a cookie challenge, a TLS upgrade) without a new version.
//
// Extensions defined so far:
//   "mode"  how the node sends: "per-message" (a connection per frame, each frame waiting for its ack)
//           or "pooled"; absent means pooled. The side that accepted a connection acks every message,
//           request, reply and failure frame of a per-message peer; a pooled peer gets no acks.
//   "heartbeat"  the interval, in whole milliseconds as decimal digits ("1000"), at which the node sends a
//           heartbeat frame (frame_kind::heartbeat) on this connection when it has sent nothing else for
//           that long; absent: it sends none. Heartbeats flow on a connection only when both hellos carry
//           the extension (a node that did not announce them may not know the kind), and only then may
//           either side declare the other down for silence (docs/protocol.md, "heartbeat"). A value that
//           is not 1 to 86,400,000 ms is a malformed hello.
//   "sequenced"  "1": the node numbers the data frames it sends on pooled connections (a resume frame
//           before them, frame_kind::resume) and acknowledges those it is sent (frame_kind::received), so
//           that a broken connection loses nothing and duplicates nothing (docs/protocol.md, "Sequenced
//           streams"). A sender numbers its frames on a connection only when both hellos carry it; any
//           other value is a malformed hello.
//
// A peer whose preamble or hello is wrong (not coactor, incompatible version, malformed hello, a frame
// before the hello) is refused: the refusing side sends a bye frame naming the reason, when it can,
// and closes.
#pragma once

#include <coactor/result.hpp>
#include <coactor/transport.hpp>
#include <coactor/wire/frame.hpp>

#include <chrono>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace coactor::wire {

/// How a node sends frames, as its hello says (extension "mode").
enum class connection_mode : std::uint8_t {
  pooled,       ///< frames on connections that stay open; no acks
  per_message,  ///< a connection per frame; the accepting side answers each data frame with an ack
};

struct hello {
  node_identity node;
  std::uint32_t capabilities = 0;
  connection_mode mode = connection_mode::pooled;
  /// The peer's heartbeat interval (extension "heartbeat"); zero when it sends none.
  std::chrono::milliseconds heartbeat{0};
  /// The peer numbers and acknowledges frames (extension "sequenced").
  bool sequenced = false;
  /// The extensions other than "mode", "heartbeat" and "sequenced", as received.
  std::vector<std::pair<std::string, std::string>> extensions;
};

/// Appends the preamble (saying the versions `versions`) and the hello frame of `self` (saying `mode`; a
/// pooled hello carries no "mode": it is the default), announcing heartbeats every `heartbeat` when it is
/// not zero, and sequenced streams when `sequenced`.
void write_greeting(std::string& out, const node_identity& self, connection_mode mode = connection_mode::pooled,
                    version_range versions = supported_versions, std::chrono::milliseconds heartbeat = {},
                    bool sequenced = false);

/// The longest heartbeat interval a hello may announce (a day).
inline constexpr std::chrono::milliseconds max_heartbeat_interval{86'400'000};

/// Parses a hello frame (a complete frame, as frame_size() delimits it).
result<hello> parse_hello(std::string_view frame);

/// Appends a bye frame carrying `why`.
void write_bye(std::string& out, const error& why);

/// The heartbeat frame: kind 8, codec 0, flags 0, no body (8 bytes).
std::string_view heartbeat_frame() noexcept;

}  // namespace coactor::wire
