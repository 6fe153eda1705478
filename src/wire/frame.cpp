#include <coactor/codec/binary.hpp>
#include <coactor/address_book.hpp>
#include <coactor/detail/utf8.hpp>
#include <coactor/wire/frame.hpp>

#include <algorithm>
#include <cstring>
#include <limits>
#include <optional>

namespace coactor::wire {
namespace {

using binary::detail::reader;
using binary::detail::writer;

// Parsing state: limits do not matter for the few fields of a header, only the error text does.
struct header_state {
  decode_limits limits;
  wire_context context;
  detail::codec_state state{limits, context};
};

bool read_pid_fields(reader& r, detail::codec_state& s, std::uint64_t node, pid& out, std::uint64_t& id,
                     std::uint64_t& slot) {
  if (!r.fixed(id, 8, s) || !r.varint(slot, s)) return false;
  if (id == 0) return s.fail(errc::bad_message, "pid with id 0");
  if (slot > std::numeric_limits<std::uint32_t>::max()) return s.fail(errc::bad_message, "pid slot out of range");
  out = pid(node, id, static_cast<std::uint32_t>(slot));
  return true;
}

bool read_string(reader& r, detail::codec_state& s, std::string_view& out, std::size_t max, const char* what) {
  std::uint64_t n;
  if (!r.length(n, 1, s) || !r.raw(out, n, s)) return false;
  if (n > max) return s.fail(errc::bad_message, std::string(what) + " longer than " + std::to_string(max) + " bytes");
  if (detail::invalid_utf8_at(out) != std::string_view::npos)
    return s.fail(errc::bad_message, std::string(what) + " is not valid UTF-8");
  return true;
}

}  // namespace

void write_preamble(std::string& out, version_range ours) {
  out.append(magic, 4);
  writer w(out);
  w.fixed(ours.highest, 2);
  w.fixed(ours.lowest == ours.highest ? 0 : ours.lowest, 2);  // 0: "the same", what version-1 nodes send
}

result<std::uint16_t> check_preamble(std::string_view in, version_range ours) {
  if (in.size() != preamble_bytes || std::memcmp(in.data(), magic, 4) != 0)
    return error(errc::protocol, "the peer does not speak the coactor protocol");
  auto u16 = [&](std::size_t at) {
    return static_cast<std::uint16_t>(static_cast<unsigned char>(in[at]) | (static_cast<unsigned char>(in[at + 1]) << 8));
  };
  const std::uint16_t highest = u16(4);
  const std::uint16_t lowest = u16(6) == 0 ? highest : u16(6);
  auto range = [](std::uint16_t lo, std::uint16_t hi) { return std::to_string(lo) + ".." + std::to_string(hi); };
  if (highest == 0) return error(errc::protocol, "the peer's preamble says version 0, which does not exist");
  if (lowest > highest)
    return error(errc::protocol, "the peer's preamble says versions " + range(lowest, highest) +
                                     ": its lowest is above its highest");
  const std::uint16_t agreed = std::min(highest, ours.highest);
  if (agreed < std::max(lowest, ours.lowest))
    return error(errc::protocol, "incompatible versions " + range(lowest, highest) + " (peer) and " +
                                     range(ours.lowest, ours.highest) + " (this node)");
  return agreed;
}

result<std::size_t> frame_size(std::string_view in, const frame_limits& limits) {
  if (in.size() < length_bytes) return std::size_t{0};
  const std::uint32_t length = length_field(in);
  if (length < 4) return error(errc::bad_message, "frame of " + std::to_string(length) + " bytes is too short");
  if (length > limits.max_frame_bytes)
    return error(errc::too_large, "frame of " + std::to_string(length) + " bytes exceeds the limit of " +
                                      std::to_string(limits.max_frame_bytes));
  return std::size_t{length} + length_bytes;
}

result<frame_view> parse_frame(std::string_view in, std::uint64_t local_incarnation, std::string_view peer_address,
                               request_salvage* salvage, address_book* addresses) {
  header_state hs;
  detail::codec_state& s = hs.state;
  if (in.size() < length_bytes + 4) return error(errc::bad_message, "frame too short");
  const std::uint32_t length = length_field(in);
  if (length != in.size() - length_bytes)
    return error(errc::bad_message, "frame length field of " + std::to_string(length) + " bytes does not match the " +
                                        std::to_string(in.size() - length_bytes) + " bytes given");
  reader r(in.substr(length_bytes));
  frame_view f;
  std::uint64_t kind = 0, format = 0, flags = 0;
  if (!r.fixed(kind, 1, s) || !r.fixed(format, 1, s) || !r.fixed(flags, 2, s)) return s.to_error("frame");
  if (kind < 1 || kind > static_cast<std::uint64_t>(last_frame_kind))
    return error(errc::protocol, "unknown frame kind " + std::to_string(kind));
  f.kind = static_cast<frame_kind>(kind);
  f.flags = static_cast<std::uint16_t>(flags);
  const bool carries_message =
      f.kind == frame_kind::message || f.kind == frame_kind::request || f.kind == frame_kind::reply;
  const bool has_envelope = carries_message || f.kind == frame_kind::failure;
  if (!has_envelope) {
    f.payload = in.substr(length_bytes + 4);
    return f;
  }
  // The first thing wrong with the frame. A field that is wrong but delimited (an unknown codec, a bad
  // target) does not stop the reading at once: a request's sender and tag, further on, say whom to
  // answer (request_salvage). Nothing is allocated unless something is wrong.
  std::optional<error> wrong;
  if (carries_message) {
    if (format != static_cast<std::uint64_t>(codec::binary) && format != static_cast<std::uint64_t>(codec::json))
      wrong.emplace(errc::protocol, "unknown codec " + std::to_string(format));
    else
      f.format = static_cast<codec>(format);
  }
  // target
  if (f.flags & flag_to_name) {
    std::uint64_t n;
    if (!r.length(n, 1, s) || !r.raw(f.to_name, n, s)) return wrong ? *wrong : s.to_error("frame target");
    if (!wrong) {
      if (n > 255)
        wrong.emplace(errc::bad_message, "frame target: target name longer than 255 bytes");
      else if (detail::invalid_utf8_at(f.to_name) != std::string_view::npos)
        wrong.emplace(errc::bad_message, "frame target: target name is not valid UTF-8");
      else if (f.to_name.empty())
        wrong.emplace(errc::bad_message, "frame target: target name is empty");
    }
  } else {
    std::uint64_t node = 0, id = 0, slot = 0;
    if (!r.fixed(node, 8, s) || !r.fixed(id, 8, s) || !r.varint(slot, s)) return wrong ? *wrong : s.to_error("frame target");
    if (!wrong) {
      if (node == 0)
        wrong.emplace(errc::bad_message, "frame target: null pid");
      else if (id == 0)
        wrong.emplace(errc::bad_message, "frame target: pid with id 0");
      else if (slot > std::numeric_limits<std::uint32_t>::max())
        wrong.emplace(errc::bad_message, "frame target: pid slot out of range");
      else
        f.to = pid(node, id, static_cast<std::uint32_t>(slot));
    }
  }
  // sender: past it, a request can be answered
  std::uint64_t node = 0;
  if (!r.fixed(node, 8, s)) return wrong ? *wrong : s.to_error("frame sender");
  if (node != 0) {
    std::uint64_t id, slot;
    if (!read_pid_fields(r, s, node, f.from, id, slot) ||
        !read_string(r, s, f.from_address, 255, "sender address"))
      return wrong ? *wrong : s.to_error("frame sender");
    if (node != local_incarnation) {
      const std::string_view address = f.from_address.empty() ? peer_address : f.from_address;
      std::uint32_t index = 0;
      if (!address.empty() && (index = (addresses ? *addresses : address_book::process()).intern(address)) == 0)
        return wrong ? *wrong : error(errc::too_large, "frame sender: too many distinct node addresses");
      f.from = pid(node, id, static_cast<std::uint32_t>(slot), index);
    }
  }
  if (!r.varint(f.tag, s)) return wrong ? *wrong : s.to_error("frame tag");
  if (carries_message && !wrong && !read_string(r, s, f.type, max_type_name_bytes, "type name"))
    wrong.emplace(s.to_error("frame type"));
  if (wrong) {
    if (salvage && f.kind == frame_kind::request && !f.from.is_null()) {
      salvage->answerable = true;
      salvage->from = f.from;
      salvage->tag = f.tag;
    }
    return std::move(*wrong);
  }
  std::string_view rest;
  if (!r.raw(rest, r.remaining(), s)) return s.to_error("frame");
  f.payload = rest;
  return f;
}

std::size_t begin_frame(std::string& out, frame_kind kind, codec format, std::uint16_t flags) {
  const std::size_t start = out.size();
  out.append(length_bytes, '\0');
  writer w(out);
  w.byte(static_cast<std::uint8_t>(kind));
  w.byte(static_cast<std::uint8_t>(format));
  w.fixed(flags, 2);
  return start;
}

void end_frame(std::string& out, std::size_t start) {
  const std::size_t length = out.size() - start - length_bytes;
  for (int i = 0; i < 4; ++i) out[start + i] = static_cast<char>(length >> (8 * i));
}

namespace {

// Writes through a raw pointer into room reserved up front (one resize instead of an append per field:
// this runs for every frame sent), then trims to what was written.
class raw_appender {
 public:
  raw_appender(std::string& out, std::size_t most) : out_(out) {
    const std::size_t start = out.size();
    out.resize(start + most);
    p_ = out.data() + start;
  }
  ~raw_appender() { out_.resize(static_cast<std::size_t>(p_ - out_.data())); }
  raw_appender(const raw_appender&) = delete;
  raw_appender& operator=(const raw_appender&) = delete;

  void varint(std::uint64_t v) noexcept {
    while (v >= 0x80) {
      *p_++ = static_cast<char>(v | 0x80);
      v >>= 7;
    }
    *p_++ = static_cast<char>(v);
  }
  void fixed64(std::uint64_t v) noexcept {
    for (int i = 0; i < 8; ++i) *p_++ = static_cast<char>(v >> (8 * i));
  }
  void text(std::string_view s) noexcept {
    varint(s.size());
    if (!s.empty()) std::memcpy(p_, s.data(), s.size());  // an empty view's data() may be null
    p_ += s.size();
  }

 private:
  std::string& out_;
  char* p_;
};

}  // namespace

void write_envelope_fields(std::string& out, const pid& to, std::string_view to_name, const pid& from,
                           std::uint64_t tag, std::string_view type, const wire_context& ctx, bool with_type) {
  const std::string_view address =
      from.is_null() || from.incarnation() == ctx.local_incarnation ? std::string_view{} : from.address();
  // The largest the fields can be: each varint at most 10 bytes.
  raw_appender w(out, 10 + to_name.size() + 16 + 10 + 16 + 10 + 10 + address.size() + 10 + 10 + type.size());
  if (!to_name.empty()) {
    w.text(to_name);
  } else {
    w.fixed64(to.incarnation());
    w.fixed64(to.id());
    w.varint(to.slot());
  }
  w.fixed64(from.incarnation());
  if (!from.is_null()) {
    w.fixed64(from.id());
    w.varint(from.slot());
    w.text(address);
  }
  w.varint(tag);
  if (with_type) w.text(type);
}

void write_stream_frame(std::string& out, frame_kind kind, stream_position at) {
  const std::size_t start = begin_frame(out, kind, codec{}, 0);
  writer w(out);
  w.fixed(at.stream, 8);
  w.fixed(at.seq, 8);
  end_frame(out, start);
}

result<stream_position> read_stream_position(std::string_view payload) {
  if (payload.size() != 16) return error(errc::bad_message, "a stream position is 16 bytes, not " + std::to_string(payload.size()));
  stream_position at;
  for (std::size_t i = 0; i < 8; ++i) {
    at.stream |= std::uint64_t{static_cast<unsigned char>(payload[i])} << (8 * i);
    at.seq |= std::uint64_t{static_cast<unsigned char>(payload[8 + i])} << (8 * i);
  }
  if (at.stream == 0) return error(errc::bad_message, "stream 0");
  return at;
}

void write_status(std::string& out, int code, std::string_view detail) {
  // read_status() refuses a detail that is not UTF-8 or longer than max_status_detail: write one it
  // accepts (details can hold anything, e.g. an exception's what()): bad bytes become '?', the rest is cut.
  std::string clean;
  if (detail.size() > max_status_detail || detail::invalid_utf8_at(detail) != std::string_view::npos) {
    while (clean.size() <= max_status_detail) {
      const std::size_t bad = detail::invalid_utf8_at(detail);
      if (bad == std::string_view::npos) break;
      clean.append(detail.substr(0, bad));
      clean.push_back('?');
      detail.remove_prefix(bad + 1);
    }
    clean.append(detail.substr(0, max_status_detail + 1));  // valid UTF-8 from here on, or cut below
    if (clean.size() > max_status_detail) {
      std::size_t end = max_status_detail;
      while (end > 0 && (static_cast<unsigned char>(clean[end]) & 0xC0) == 0x80) --end;  // a character's start
      clean.resize(end);
    }
    detail = clean;
  }
  writer w(out);
  w.varint(static_cast<std::uint64_t>(code));
  w.varint(detail.size());
  w.raw(detail.data(), detail.size());
}

error status::to_error() const {
  if (code == 0) return error(std::error_code{}, detail);
  return error(static_cast<errc>(code), detail);
}

result<status> read_status(std::string_view payload) {
  header_state hs;
  reader r(payload);
  std::uint64_t code;
  std::string_view detail;
  if (!r.varint(code, hs.state) || !read_string(r, hs.state, detail, max_status_detail, "status detail"))
    return hs.state.to_error("status");
  if (code > 0xffff) return error(errc::bad_message, "status code out of range");
  return status{static_cast<int>(code), std::string(detail)};
}

}  // namespace coactor::wire
