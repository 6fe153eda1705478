// coactor detail: SipHash-2-4 (Aumasson and Bernstein, "SipHash: a fast short-input PRF", 2012).
// Keyed with a secret drawn at start, it turns a counter into process ids that cannot be guessed from the
// ids a peer has seen, and hashes text a peer chose (node addresses) without letting the peer choose
// colliding texts.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace coactor::detail {

struct siphash_key {
  std::uint64_t k0 = 0;
  std::uint64_t k1 = 0;
};

namespace sip {

struct state {
  std::uint64_t v0, v1, v2, v3;

  constexpr explicit state(const siphash_key& key) noexcept
      : v0(key.k0 ^ 0x736f6d6570736575ull),
        v1(key.k1 ^ 0x646f72616e646f6dull),
        v2(key.k0 ^ 0x6c7967656e657261ull),
        v3(key.k1 ^ 0x7465646279746573ull) {}

  constexpr void round() noexcept {
    v0 += v1; v1 = std::rotl(v1, 13); v1 ^= v0; v0 = std::rotl(v0, 32);
    v2 += v3; v3 = std::rotl(v3, 16); v3 ^= v2;
    v0 += v3; v3 = std::rotl(v3, 21); v3 ^= v0;
    v2 += v1; v1 = std::rotl(v1, 17); v1 ^= v2; v2 = std::rotl(v2, 32);
  }
  /// One 8-byte block of the message (little-endian), with its two compression rounds.
  constexpr void compress(std::uint64_t m) noexcept {
    v3 ^= m;
    round();
    round();
    v0 ^= m;
  }
  constexpr std::uint64_t finish() noexcept {
    v2 ^= 0xff;
    round(); round(); round(); round();
    return v0 ^ v1 ^ v2 ^ v3;
  }
};

}  // namespace sip

/// SipHash-2-4 of one 64-bit word (as the 8 bytes of its little-endian form).
constexpr std::uint64_t siphash24(const siphash_key& key, std::uint64_t word) noexcept {
  sip::state s(key);
  s.compress(word);
  s.compress(std::uint64_t{8} << 56);  // the final block: length 8, no tail bytes
  return s.finish();
}

/// SipHash-2-4 of a byte string.
constexpr std::uint64_t siphash24(const siphash_key& key, std::string_view bytes) noexcept {
  sip::state s(key);
  const std::size_t n = bytes.size();
  auto byte = [&](std::size_t i) { return std::uint64_t{static_cast<unsigned char>(bytes[i])}; };
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    std::uint64_t m = 0;
    for (std::size_t k = 0; k < 8; ++k) m |= byte(i + k) << (8 * k);
    s.compress(m);
  }
  std::uint64_t last = std::uint64_t{n & 0xff} << 56;  // the length's low byte, then the tail bytes
  for (std::size_t k = 0; i + k < n; ++k) last |= byte(i + k) << (8 * k);
  s.compress(last);
  return s.finish();
}

}  // namespace coactor::detail
