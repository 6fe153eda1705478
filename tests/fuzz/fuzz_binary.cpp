// Fuzz target: the binary codec (include/coactor/codec/binary.hpp) decoding fuzz::rich.
// Decoding must never crash or trip a sanitizer; whatever decodes must encode, and decode again to the
// same value; and the encoding is canonical (encoding that again gives the same bytes).
#include "fuzz_message.hpp"

#include <coactor/codec/binary.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  fuzz::rich first{};
  if (!coactor::binary::decode_into(in, first)) return 0;

  std::string once;
  if (!coactor::binary::encode(first, once)) fuzz::finding();  // decoded strings are valid UTF-8
  fuzz::rich second{};
  if (!coactor::binary::decode_into(once, second)) fuzz::finding();
  if (!fuzz::same(first, second, true)) fuzz::finding();

  std::string twice;
  if (!coactor::binary::encode(second, twice)) fuzz::finding();
  // (an unordered_map of several entries may iterate in another order after decoding)
  if (second.by_u8.size() <= 1 && twice != once) fuzz::finding();
  return 0;
}
