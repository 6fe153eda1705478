// coactor detail: SipHash-2-4 of one 64-bit word (Aumasson and Bernstein, "SipHash: a fast short-input
// PRF", 2012). Keyed with a secret drawn at node start, it turns a counter into process ids that cannot
// be guessed from the ids a peer has seen.
#pragma once

#include <bit>
#include <cstdint>

namespace coactor::detail {

struct siphash_key {
  std::uint64_t k0 = 0;
  std::uint64_t k1 = 0;
};

constexpr std::uint64_t siphash24(const siphash_key& key, std::uint64_t word) noexcept {
  std::uint64_t v0 = key.k0 ^ 0x736f6d6570736575ull;
  std::uint64_t v1 = key.k1 ^ 0x646f72616e646f6dull;
  std::uint64_t v2 = key.k0 ^ 0x6c7967656e657261ull;
  std::uint64_t v3 = key.k1 ^ 0x7465646279746573ull;
  auto round = [&] {
    v0 += v1; v1 = std::rotl(v1, 13); v1 ^= v0; v0 = std::rotl(v0, 32);
    v2 += v3; v3 = std::rotl(v3, 16); v3 ^= v2;
    v0 += v3; v3 = std::rotl(v3, 21); v3 ^= v0;
    v2 += v1; v1 = std::rotl(v1, 17); v1 ^= v2; v2 = std::rotl(v2, 32);
  };
  auto compress = [&](std::uint64_t m) {
    v3 ^= m;
    round();
    round();
    v0 ^= m;
  };
  compress(word);              // the message: one little-endian 8-byte word
  compress(std::uint64_t{8} << 56);  // the final block: length 8, no tail bytes
  v2 ^= 0xff;
  round(); round(); round(); round();
  return v0 ^ v1 ^ v2 ^ v3;
}

}  // namespace coactor::detail
