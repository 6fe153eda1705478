// The message the codec fuzz targets decode (fuzz_binary.cpp, fuzz_json.cpp; seeds from make_corpus.cpp),
// and `same()`, a field-by-field comparison of two decoded values.
#pragma once

#include <coactor/pid.hpp>
#include <coactor/reflect.hpp>
#include <coactor/detail/wire_traits.hpp>

#include <array>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <map>
#include <optional>
#include <string>
#include <type_traits>
#include <unordered_map>
#include <variant>
#include <vector>

namespace fuzz {

enum class mood : std::int16_t { calm = -1, angry = 300 };

struct leaf {
  std::string name;
  std::int32_t n;
};

struct node {
  std::string label;
  std::vector<node> kids;
  std::optional<leaf> extra;
};

using choice = std::variant<std::int64_t, std::string, leaf, std::vector<std::uint8_t>>;

/// Every kind of field the codecs know, scalars first.
struct rich {
  bool b;
  std::int8_t i8;
  std::int16_t i16;
  std::int32_t i32;
  std::int64_t i64;
  std::uint8_t u8;
  std::uint16_t u16;
  std::uint32_t u32;
  std::uint64_t u64;
  float f;
  double d;
  mood m;
  std::string s;
  coactor::bytes raw;
  std::vector<std::int32_t> ints;
  std::vector<std::string> words;
  std::array<std::uint16_t, 2> pair;
  std::map<std::string, leaf> by_name;
  std::map<std::int64_t, bool> by_i64;
  std::unordered_map<std::uint8_t, std::string> by_u8;
  std::optional<std::int32_t> maybe;
  std::optional<std::vector<leaf>> maybe_leaves;
  choice c;
  coactor::pid p;
  node tree;
};

template <class T, std::size_t... I>
bool same_fields(const T& a, const T& b, bool nan_bits, std::index_sequence<I...>);

/// Equal values, floating point compared bit for bit; NaNs compared by their bits only if `nan_bits`
/// (the JSON codec writes every NaN as "NaN").
template <class T>
bool same(const T& a, const T& b, bool nan_bits) {
  using namespace coactor::detail;
  if constexpr (std::is_floating_point_v<T>) {
    if (std::isnan(a) && std::isnan(b) && !nan_bits) return true;
    return std::memcmp(&a, &b, sizeof a) == 0;
  } else if constexpr (std::is_same_v<T, coactor::pid>) {
    return a == b && a.address() == b.address();
  } else if constexpr (std::is_same_v<T, std::string> || std::is_same_v<T, coactor::bytes> || std::is_arithmetic_v<T> ||
                       std::is_enum_v<T>) {
    return a == b;
  } else if constexpr (is_vector<T>::value || is_std_array<T>::value) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
      if (!same<typename T::value_type>(a[i], b[i], nan_bits)) return false;
    return true;
  } else if constexpr (is_map<T>::value) {
    if (a.size() != b.size()) return false;
    for (const auto& [key, value] : a) {
      auto it = b.find(key);
      if (it == b.end() || !same(value, it->second, nan_bits)) return false;
    }
    return true;
  } else if constexpr (is_optional<T>::value) {
    if (a.has_value() != b.has_value()) return false;
    return !a || same(*a, *b, nan_bits);
  } else if constexpr (is_variant<T>::value) {
    if (a.index() != b.index()) return false;
    return std::visit(
        [&](const auto& x) {
          using alternative = std::remove_cvref_t<decltype(x)>;
          return same(x, std::get<alternative>(b), nan_bits);
        },
        a);
  } else {
    static_assert(coactor::reflectable<T>);
    return same_fields(a, b, nan_bits, std::make_index_sequence<coactor::field_count<T>>{});
  }
}

template <class T, std::size_t... I>
bool same_fields(const T& a, const T& b, bool nan_bits, std::index_sequence<I...>) {
  return (same(boost::pfr::get<I>(a), boost::pfr::get<I>(b), nan_bits) && ...);
}

/// Stops the fuzzer here (a finding), without depending on assert() being compiled in.
[[noreturn]] inline void finding() { __builtin_trap(); }

}  // namespace fuzz
