// Fuzz target: the JSON codec (include/coactor/codec/json.hpp, src/codec/json.cpp) decoding fuzz::rich.
// Decoding must never crash or trip a sanitizer; whatever decodes must encode, and decode again to the
// same value (NaN payloads aside: JSON writes every NaN as "NaN"); the text written is a fixed point.
#include "fuzz_message.hpp"

#include <coactor/codec/json.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  // reformat() takes any JSON; it must not crash either, and its output must read back.
  if (auto text = coactor::json::reformat(in, (size & 1) ? 2 : -1)) {
    if (!coactor::json::reformat(*text)) fuzz::finding();
  }

  fuzz::rich first{};
  if (!coactor::json::decode_into(in, first)) return 0;

  std::string once;
  if (!coactor::json::encode(first, once)) fuzz::finding();  // decoded strings are valid UTF-8
  fuzz::rich second{};
  if (!coactor::json::decode_into(once, second)) fuzz::finding();
  if (!fuzz::same(first, second, false)) fuzz::finding();

  std::string twice;
  if (!coactor::json::encode(second, twice)) fuzz::finding();
  if (second.by_u8.size() <= 1 && twice != once) fuzz::finding();
  return 0;
}
