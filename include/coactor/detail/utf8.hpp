// coactor detail: UTF-8 validation (RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace coactor::detail {

namespace utf8 {

inline constexpr std::uint64_t high_bits = 0x8080808080808080ull;

inline std::uint64_t load8(const unsigned char* p) noexcept {
  std::uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}

/// The offset of the first invalid byte at or after `i`, or npos; `i` must start a character.
inline std::size_t invalid_from(const unsigned char* p, std::size_t n, std::size_t i) noexcept {
  while (i < n) {
    // Runs of ASCII inside mixed text, eight bytes at a time.
    if (i + 8 <= n && (load8(p + i) & high_bits) == 0) {
      i += 8;
      continue;
    }
    const unsigned char c = p[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    std::size_t len;
    unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
    if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      if (c == 0xE0) lo = 0xA0;       // no overlong 3-byte forms
      else if (c == 0xED) hi = 0x9F;  // no surrogates
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      if (c == 0xF0) lo = 0x90;       // no overlong 4-byte forms
      else if (c == 0xF4) hi = 0x8F;  // nothing above U+10FFFF
    } else {
      return i;
    }
    if (i + len > n) return i;
    if (p[i + 1] < lo || p[i + 1] > hi) return i;
    for (std::size_t k = 2; k < len; ++k)
      if (p[i + k] < 0x80 || p[i + k] > 0xBF) return i;
    i += len;
  }
  return std::string_view::npos;
}

}  // namespace utf8

/// The offset of the first byte that is not valid UTF-8, or npos if all of `s` is valid.
///
/// Nearly every string on the wire (names, addresses, most text) is ASCII, so that is answered first by
/// testing the high bit of whole words: a string of 4 bytes or more takes a few loads (the last one
/// overlapping the one before rather than finishing byte by byte). Only a string that has a byte >= 0x80
/// is decoded character by character, from the start of the word that holds it (all before is ASCII).
inline std::size_t invalid_utf8_at(std::string_view s) noexcept {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const std::size_t n = s.size();
  std::size_t i = 0;
  if (n >= 8) {
    while (i + 8 <= n && (utf8::load8(p + i) & utf8::high_bits) == 0) i += 8;
    if (i == n || (i + 8 > n && (utf8::load8(p + n - 8) & utf8::high_bits) == 0)) return std::string_view::npos;
  } else if (n >= 4) {
    std::uint32_t head, tail;
    std::memcpy(&head, p, 4);
    std::memcpy(&tail, p + n - 4, 4);
    if (((head | tail) & 0x80808080u) == 0) return std::string_view::npos;
  } else {
    unsigned char any = 0;
    for (std::size_t k = 0; k < n; ++k) any |= p[k];
    if (any < 0x80) return std::string_view::npos;
  }
  return utf8::invalid_from(p, n, i);
}

}  // namespace coactor::detail
