#include <coactor/codec/binary.hpp>
#include <coactor/wire/handshake.hpp>

#include <algorithm>
#include <optional>

namespace coactor::wire {
namespace {

using binary::detail::reader;
using binary::detail::writer;

void put_string(writer& w, std::string_view s) {
  w.varint(s.size());
  w.raw(s.data(), s.size());
}

bool get_string(reader& r, detail::codec_state& s, std::string& out, std::size_t max, const char* what) {
  std::uint64_t n;
  std::string_view data;
  if (!r.length(n, 1, s) || !r.raw(data, n, s)) return false;
  if (n > max) return s.fail(errc::protocol, std::string(what) + " longer than " + std::to_string(max) + " bytes");
  if (detail::invalid_utf8_at(data) != std::string_view::npos)
    return s.fail(errc::protocol, std::string(what) + " is not valid UTF-8");
  out.assign(data);
  return true;
}

constexpr std::string_view mode_key = "mode";
constexpr std::string_view per_message_mode = "per-message";
constexpr std::string_view pooled_mode = "pooled";
constexpr std::string_view heartbeat_key = "heartbeat";
constexpr std::string_view sequenced_key = "sequenced";

/// The milliseconds of a "heartbeat" value: decimal digits, 1 to max_heartbeat_interval.
std::optional<std::chrono::milliseconds> heartbeat_of(std::string_view text) {
  if (text.empty() || text.size() > 8) return std::nullopt;
  std::int64_t ms = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    ms = ms * 10 + (c - '0');
  }
  if (ms < 1 || ms > max_heartbeat_interval.count()) return std::nullopt;
  return std::chrono::milliseconds(ms);
}

}  // namespace

void write_greeting(std::string& out, const node_identity& self, connection_mode mode, version_range versions,
                    std::chrono::milliseconds heartbeat, bool sequenced) {
  write_preamble(out, versions);
  const std::size_t start = begin_frame(out, frame_kind::hello, codec{}, 0);
  writer w(out);
  w.fixed(self.incarnation, 8);
  put_string(w, self.name);
  put_string(w, self.address);
  w.byte(static_cast<std::uint8_t>(self.format));
  w.fixed(0, 4);  // capabilities
  const bool per_message = mode == connection_mode::per_message;
  const bool beats = heartbeat.count() > 0;
  w.varint((per_message ? 1 : 0) + (beats ? 1 : 0) + (sequenced ? 1 : 0));  // extensions
  if (per_message) {
    put_string(w, mode_key);
    put_string(w, per_message_mode);
  }
  if (beats) {
    put_string(w, heartbeat_key);
    put_string(w, std::to_string(std::min(heartbeat, max_heartbeat_interval).count()));
  }
  if (sequenced) {
    put_string(w, sequenced_key);
    put_string(w, "1");
  }
  end_frame(out, start);
}

result<hello> parse_hello(std::string_view frame) {
  auto f = parse_frame(frame, 0, {});
  if (!f) return error(errc::protocol, "hello: " + f.error().message());
  if (f->kind != frame_kind::hello)
    return error(errc::protocol, "expected a hello frame, got kind " + std::to_string(static_cast<int>(f->kind)));
  decode_limits limits;
  wire_context context;
  detail::codec_state s(limits, context);
  reader r(f->payload);
  hello h;
  std::uint64_t format = 0, capabilities = 0, count = 0;  // (set when the reads succeed; g++ -O3 cannot tell)
  if (!r.fixed(h.node.incarnation, 8, s) || !get_string(r, s, h.node.name, 255, "node name") ||
      !get_string(r, s, h.node.address, 255, "node address") || !r.fixed(format, 1, s) ||
      !r.fixed(capabilities, 4, s) || !r.length(count, 2, s))
    return error(errc::protocol, s.to_error("hello").detail());
  if (h.node.incarnation == 0) return error(errc::protocol, "hello: incarnation 0");
  if (format != static_cast<std::uint64_t>(codec::binary) && format != static_cast<std::uint64_t>(codec::json))
    return error(errc::protocol, "hello: unknown codec " + std::to_string(format));
  if (count > 64) return error(errc::protocol, "hello: more than 64 extensions");
  h.node.format = static_cast<codec>(format);
  h.capabilities = static_cast<std::uint32_t>(capabilities);
  for (std::uint64_t i = 0; i < count; ++i) {
    std::string key, value;
    if (!get_string(r, s, key, 255, "extension key") || !get_string(r, s, value, 64 * 1024, "extension value"))
      return error(errc::protocol, s.to_error("hello").detail());
    if (key == heartbeat_key) {
      auto interval = heartbeat_of(value);
      if (!interval) return error(errc::protocol, "hello: heartbeat interval '" + value + "' is not 1 to " +
                                                      std::to_string(max_heartbeat_interval.count()) + " milliseconds");
      h.heartbeat = *interval;
    } else if (key == sequenced_key) {
      if (value != "1") return error(errc::protocol, "hello: sequenced is '" + value + "', not '1'");
      h.sequenced = true;
    } else if (key != mode_key) {
      h.extensions.emplace_back(std::move(key), std::move(value));
    } else if (value == per_message_mode || value == pooled_mode) {
      h.mode = value == pooled_mode ? connection_mode::pooled : connection_mode::per_message;
    } else {
      // A mode this node does not speak: it could not answer the peer's frames as the peer expects.
      return error(errc::protocol, "hello: unknown connection mode '" + value + "'");
    }
  }
  return h;
}

std::string_view heartbeat_frame() noexcept {
  static constexpr char bytes[] = {4, 0, 0, 0, static_cast<char>(frame_kind::heartbeat), 0, 0, 0};
  return std::string_view(bytes, sizeof bytes);
}

void write_bye(std::string& out, const error& why) {
  const std::size_t start = begin_frame(out, frame_kind::bye, codec{}, 0);
  write_status(out, why.code().category() == error_category() ? why.code().value() : static_cast<int>(errc::io),
               why.message());
  end_frame(out, start);
}

}  // namespace coactor::wire
