// Bytes written by hand, for tests that check the wire format against docs/protocol.md rather than
// against the code that writes it.
#pragma once

#include <coactor/wire/frame.hpp>

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

namespace wire_test {

inline std::string bytes_of(std::initializer_list<unsigned> list) {
  std::string out;
  for (unsigned b : list) out.push_back(static_cast<char>(b));
  return out;
}

/// A little-endian u64.
inline std::string le64(std::uint64_t v) {
  std::string out;
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>(v >> (8 * i)));
  return out;
}

/// An unsigned LEB128 varint.
inline std::string varint(std::uint64_t v) {
  std::string out;
  while (v >= 0x80) {
    out.push_back(static_cast<char>(v | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
  return out;
}

/// A string: varint length, then the bytes.
inline std::string str(std::string_view s) { return varint(s.size()) + std::string(s); }

/// The frame (length field included) holding `body`.
inline std::string framed(std::string_view body) {
  std::string out;
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>(body.size() >> (8 * i)));
  out.append(body);
  return out;
}

/// A frame: length, kind, codec, flags, body.
inline std::string frame(coactor::wire::frame_kind kind, unsigned format, unsigned flags, std::string_view body) {
  return framed(bytes_of({static_cast<unsigned>(kind), format, flags & 0xff, flags >> 8}) + std::string(body));
}

}  // namespace wire_test
