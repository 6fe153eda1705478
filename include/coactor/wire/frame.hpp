// coactor wire: frame, the unit every transport carries (see docs/protocol.md for the byte layout).
//
// A connection starts with an 8-byte preamble (magic "CoAc", u16 highest and u16 lowest protocol version
// spoken, the lowest 0 when it is the highest) and a hello frame from each side (handshake.hpp); after
// that it carries frames:
//
//   u32   length of the rest of the frame (LE), at most frame_limits::max_frame_bytes
//   u8    kind (frame_kind)
//   u8    codec of the payload (1 binary, 2 json; 0 when the kind has no message payload)
//   u16   flags (LE): bit 0 = the target is a registered name; other bits reserved, sent as 0, ignored
//   ...   kind-specific body (message, request, reply, failure: the envelope fields below)
//
// Envelope fields, in order: target (a name: varint length + UTF-8; or a pid: u64 incarnation, u64 id,
// varint slot), sender pid (u64 incarnation, 0 = no sender; else u64 id, varint slot, string address,
// empty meaning "the node that sent this frame"), varint tag (request/reply pairing, 0 for plain
// messages), type name (varint length + bytes; absent for failure frames), then the payload to the end of
// the frame: the message encoded with the frame's codec, or for a failure: varint errc + string detail.
//
// Parsing never trusts the bytes: a length over the limit, a truncated or malformed field, an unknown
// kind or codec each come back as an error (errc::too_large, errc::bad_message, errc::protocol): the
// caller refuses the frame (and answers a request whose sender and tag were read: request_salvage);
// nothing crashes, and nothing is allocated unless the frame is wrong.
#pragma once

#include <coactor/codec.hpp>
#include <coactor/error.hpp>
#include <coactor/pid.hpp>
#include <coactor/result.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace coactor::wire {

/// The protocol versions a side speaks: the preamble says the highest and the lowest (see
/// check_preamble()). This build speaks version 1 only.
struct version_range {
  std::uint16_t lowest = 1;
  std::uint16_t highest = 1;
};
inline constexpr std::uint16_t protocol_version = 1;  ///< the highest version this build speaks
inline constexpr version_range supported_versions{1, protocol_version};
inline constexpr char magic[4] = {'C', 'o', 'A', 'c'};
inline constexpr std::size_t preamble_bytes = 8;
inline constexpr std::size_t length_bytes = 4;

/// The length field at the start of `bytes` (which holds at least length_bytes): the size of the frame
/// that follows it. Unchecked: frame_size() checks it against the limits.
inline std::uint32_t length_field(std::string_view bytes) noexcept {
  std::uint32_t length = 0;
  for (std::size_t i = 0; i < length_bytes; ++i)
    length |= std::uint32_t{static_cast<unsigned char>(bytes[i])} << (8 * i);
  return length;
}

enum class frame_kind : std::uint8_t {
  hello = 1,    ///< handshake (handshake.hpp)
  message = 2,  ///< a plain send
  request = 3,  ///< a request: the reply must carry its tag back
  reply = 4,    ///< the reply to the request `tag`
  failure = 5,  ///< the request `tag` failed (payload: errc + detail)
  ack = 6,      ///< per-message connections: the frame was taken (payload: errc 0 or the refusal)
  bye = 7,      ///< the sender closes the connection (payload: errc + reason)
  heartbeat = 8,  ///< "still here": sent on an otherwise quiet connection whose peer's hello asked for them
                  ///< (handshake.hpp, extension "heartbeat"); empty body; the transport consumes it
  resume = 9,     ///< the data frames that follow on this connection from its sender are numbers `seq`, seq+1,
                  ///< ... of its stream `stream` to the receiving node (body: u64 stream, u64 seq; sent only
                  ///< when both hellos say "sequenced"); the transport consumes it
  received = 10,  ///< every data frame of the receiver's stream `stream` up to number `seq` was delivered
                  ///< (body: u64 stream, u64 seq); the transport consumes it
};
/// The highest kind this build knows: a frame of a kind above it (or 0) is refused as unknown.
inline constexpr frame_kind last_frame_kind = frame_kind::received;

inline constexpr std::uint16_t flag_to_name = 1;

/// A data frame (message, request, reply, failure): what a node delivers; the other kinds are the
/// transport's own.
constexpr bool is_data(frame_kind k) noexcept { return k >= frame_kind::message && k <= frame_kind::failure; }

/// The incarnation of the node a data frame (message, request, reply, failure; complete, as frame_size()
/// delimits it) is for: its target pid's, read from its header without parsing the rest. 0 for a frame
/// to a registered name, of another kind, or too short to say.
inline std::uint64_t target_incarnation(std::string_view frame) noexcept {
  constexpr std::size_t header = length_bytes + 4;
  if (frame.size() < header + 8) return 0;
  const auto kind = static_cast<std::uint8_t>(frame[length_bytes]);
  if (kind < static_cast<std::uint8_t>(frame_kind::message) || kind > static_cast<std::uint8_t>(frame_kind::failure)) return 0;
  if (static_cast<unsigned char>(frame[length_bytes + 2]) & flag_to_name) return 0;
  std::uint64_t incarnation = 0;
  for (std::size_t i = 0; i < 8; ++i)
    incarnation |= std::uint64_t{static_cast<unsigned char>(frame[header + i])} << (8 * i);
  return incarnation;
}

struct frame_limits {
  std::size_t max_frame_bytes = (std::size_t{64} << 20) + 4096;  ///< a 64 MiB message plus its header
};

/// A parsed frame. The views point into the bytes it was parsed from.
struct frame_view {
  frame_kind kind{};
  codec format{};
  std::uint16_t flags = 0;
  pid to;                    ///< the target process, unless flags & flag_to_name
  std::string_view to_name;  ///< the target's registered name, if flags & flag_to_name
  pid from;                  ///< the sender, or the null pid
  std::string_view from_address;  ///< the sender's node address as sent (empty: the peer itself)
  std::uint64_t tag = 0;
  std::string_view type;     ///< the payload's type name (message, request, reply)
  std::string_view payload;  ///< the encoded message; for failure/ack/bye: errc and detail (see read_status); for a
                             ///< heartbeat: its body (empty; a receiver ignores whatever is there)
};

/// The 8 bytes every connection starts with: magic, u16 highest version, u16 lowest version (written as
/// 0 when it equals the highest, as version-1 nodes did).
void write_preamble(std::string& out, version_range ours = supported_versions);
/// Checks a peer's preamble (exactly preamble_bytes) against the versions this side speaks and returns
/// the version both use: the lower of the two highest, if it is not below either lowest (a lowest of 0
/// means "the same as the highest"). errc::protocol if it is not coactor, or the ranges do not meet
/// ("incompatible versions 2..2 (peer) and 1..1 (this node)").
result<std::uint16_t> check_preamble(std::string_view in, version_range ours = supported_versions);

/// The length of the first frame in `in` including its length field, 0 if `in` does not yet hold the
/// whole length field; errc::too_large if the frame is over the limit, errc::bad_message if too short.
/// The frame is complete when in.size() >= the returned length.
result<std::size_t> frame_size(std::string_view in, const frame_limits& limits = {});

/// Who to answer for a request frame that does not parse: its sender and tag, when they could be read
/// (the fields before them delimited, even if wrong; the sender complete and not null).
struct request_salvage {
  bool answerable = false;
  pid from;
  std::uint64_t tag = 0;
};

/// Parses one complete frame (exactly the bytes frame_size() said). `local_incarnation` makes pids of
/// this node local (no address); other pids get their address interned in `addresses` (null: the
/// process book; the sender's own pid gets `peer_address` when it travels without one). When the frame
/// is a malformed request and `salvage` is given, it is filled in so that the caller can answer the
/// requester with a failure frame.
result<frame_view> parse_frame(std::string_view in, std::uint64_t local_incarnation, std::string_view peer_address,
                               request_salvage* salvage = nullptr, address_book* addresses = nullptr);

/// Writing a frame: begin_frame() reserves the length, the body is appended, end_frame() patches it.
std::size_t begin_frame(std::string& out, frame_kind kind, codec format, std::uint16_t flags);
void end_frame(std::string& out, std::size_t start);

/// Appends the envelope fields that precede the payload. `to_name` is used when not empty. `from` is
/// sent without address when it belongs to `ctx.local_incarnation` (the receiver knows who sent the frame).
void write_envelope_fields(std::string& out, const pid& to, std::string_view to_name, const pid& from,
                           std::uint64_t tag, std::string_view type, const wire_context& ctx, bool with_type);

/// The body of a resume or received frame (sequenced streams, handshake.hpp): a stream of data frames
/// from one node incarnation to another, and a frame number in it (the first is 1).
struct stream_position {
  std::uint64_t stream = 0;
  std::uint64_t seq = 0;
};
/// Appends a resume or received frame (`kind`) carrying `at` (24 bytes).
void write_stream_frame(std::string& out, frame_kind kind, stream_position at);
/// Reads the body of a resume or received frame (its payload, as parse_frame() gives it): errc::bad_message
/// unless it is exactly two u64, the stream not 0.
result<stream_position> read_stream_position(std::string_view payload);

/// Payloads of failure, ack and bye frames: an error code (0 = none) and a detail text.
struct status {
  int code = 0;
  std::string detail;
  /// The status as an error (a code of 0 is the empty error_code).
  error to_error() const;
};
/// The longest detail a status carries; write_status() cuts longer ones, and writes bytes that are not
/// UTF-8 as '?'.
inline constexpr std::size_t max_status_detail = 64 * 1024;
void write_status(std::string& out, int code, std::string_view detail);
result<status> read_status(std::string_view payload);

}  // namespace coactor::wire
