// UTF-8 validation (detail/utf8.hpp), which every string of every message goes through, against a
// reference written the plain way: decode the code point, then check it. The validator answers ASCII
// words at a time (8 bytes, the last word overlapping the one before; 4 bytes for short strings), so
// the cases below put each kind of byte sequence at every offset of strings of every length around
// those word sizes.
#include <coactor/detail/utf8.hpp>

#include <catch2/catch.hpp>

#include <cstddef>
#include <cstdint>
#include <random>
#include <string>
#include <string_view>

namespace {

using coactor::detail::invalid_utf8_at;

constexpr std::size_t npos = std::string_view::npos;

/// The offset of the first sequence that is not a well-formed, shortest, non-surrogate UTF-8 encoding of
/// a code point up to U+10FFFF.
std::size_t reference_invalid_at(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto lead = static_cast<unsigned char>(s[i]);
    std::size_t len;
    std::uint32_t cp;
    if (lead < 0x80) {
      ++i;
      continue;
    } else if ((lead & 0xe0) == 0xc0) {
      len = 2, cp = lead & 0x1fu;
    } else if ((lead & 0xf0) == 0xe0) {
      len = 3, cp = lead & 0x0fu;
    } else if ((lead & 0xf8) == 0xf0) {
      len = 4, cp = lead & 0x07u;
    } else {
      return i;
    }
    if (s.size() - i < len) return i;
    for (std::size_t k = 1; k < len; ++k) {
      const auto c = static_cast<unsigned char>(s[i + k]);
      if ((c & 0xc0) != 0x80) return i;
      cp = (cp << 6) | (c & 0x3fu);
    }
    const std::uint32_t shortest_from[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < shortest_from[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
    i += len;
  }
  return npos;
}

}  // namespace

TEST_CASE("utf8: ASCII of every length up to a few words is valid", "[codec][utf8]") {
  for (std::size_t n = 0; n <= 40; ++n) {
    INFO(n << " bytes");
    CHECK(invalid_utf8_at(std::string(n, 'a')) == npos);
    CHECK(invalid_utf8_at(std::string(n, '\x7f')) == npos);
    CHECK(invalid_utf8_at(std::string(n, '\0')) == npos);
  }
}

TEST_CASE("utf8: each kind of sequence at every offset of every length agrees with the reference", "[codec][utf8]") {
  const std::string_view sequences[] = {
      "\xc3\xa9",          // é: valid, 2 bytes
      "\xe2\x82\xac",      // €: valid, 3 bytes
      "\xf0\x9f\x98\x80",  // 😀: valid, 4 bytes
      "\xf4\x8f\xbf\xbf",  // U+10FFFF: valid, the last code point
      "\x80",              // a continuation byte on its own
      "\xff",              // never in UTF-8
      "\xc3",              // a lead byte without its continuation (truncated at the end of the string)
      "\xc0\xaf",          // overlong
      "\xe0\x9f\xbf",      // overlong 3-byte
      "\xed\xa0\x80",      // a surrogate
      "\xf4\x90\x80\x80",  // above U+10FFFF
      "\xe2\x82",          // a truncated 3-byte sequence
  };
  for (const std::string_view seq : sequences) {
    for (std::size_t n = 0; n <= 34; ++n) {
      for (std::size_t at = 0; at <= n; ++at) {
        const std::string s = std::string(at, 'a') + std::string(seq) + std::string(n - at, 'b');
        INFO("sequence of " << seq.size() << " byte(s) at " << at << " of " << s.size());
        const std::size_t expected = reference_invalid_at(s);
        CHECK(invalid_utf8_at(s) == expected);
        // A second sequence further on: the first error found is the one reported.
        CHECK(invalid_utf8_at(s + "\xff") == (expected == npos ? s.size() : expected));
      }
    }
  }
}

TEST_CASE("utf8: the high bit in any byte of the last, overlapping word is seen", "[codec][utf8]") {
  for (std::size_t n = 1; n <= 40; ++n) {
    for (std::size_t at = 0; at < n; ++at) {
      std::string s(n, 'x');
      s[at] = '\x80';
      INFO(at << " of " << n);
      CHECK(invalid_utf8_at(s) == at);
    }
  }
}

TEST_CASE("utf8: random text agrees with the reference", "[codec][utf8]") {
  std::mt19937 rng(20240611);
  // Mostly ASCII, with the bytes that start, continue and break sequences.
  const unsigned char alphabet[] = {'a', 'b', ' ', 'z', 0x00, 0x7f, 0x80, 0x8f, 0x9f, 0xa0, 0xbf,
                                    0xc2, 0xc3, 0xdf, 0xe0, 0xe2, 0xed, 0xef, 0xf0, 0xf4, 0xf5, 0xff};
  std::uniform_int_distribution<std::size_t> length(0, 48), pick(0, sizeof alphabet - 1), ascii_run(0, 3);
  for (int round = 0; round < 20000; ++round) {
    std::string s;
    const std::size_t n = length(rng);
    while (s.size() < n) {
      if (ascii_run(rng)) s += 'q';
      else s += static_cast<char>(alphabet[pick(rng)]);
    }
    INFO(round);
    CHECK(invalid_utf8_at(s) == reference_invalid_at(s));
  }
}
