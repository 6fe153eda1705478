// coactor: type_name<T>(), the wire name of a message type.
//
// Every message carries the name of its type, so that the receiving node can tell what it is before it
// decodes it. The name is the same from every compiler (a g++ node and a clang node agree):
//
//   bool, i8, i16, i32, i64, u8, u16, u32, u64, f32, f64, string, bytes, pid
//   vector<T>, array<T,N>, map<K,V> (std::map and std::unordered_map alike), optional<T>, variant<A,B,...>
//   structs and enums: their qualified C++ name ("app::ping"), spelled the same way by every compiler
//   (std::__cxx11:: and spaces in "> >" removed, integer types spelled "long", "unsigned long", ...).
//
// A type can choose its own name, either with a member
//     struct ping { static constexpr std::string_view coactor_name = "demo.ping"; int n; };
// or, for a type you cannot change, by specialising coactor::wire_name:
//     template <> struct coactor::wire_name<lib::point> { static constexpr std::string_view value = "point"; };
// Choosing names is recommended for types whose C++ name may change (renames, moves between namespaces),
// for class templates, and for types in anonymous namespaces.
#pragma once

#include <coactor/detail/type_name.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <variant>
#include <vector>

namespace coactor {

class pid;
struct process_name;

/// Customisation point: specialise with `static constexpr std::string_view value` to name a type.
template <class T>
struct wire_name {};

/// The bytes of a message field that holds raw binary data.
using bytes = std::vector<std::byte>;

namespace detail {

/// A compile-time string of at most N characters.
template <std::size_t N>
struct fixed_name {
  std::array<char, N + 1> chars{};
  std::size_t size = 0;

  constexpr void append(std::string_view s) {
    for (char c : s) chars[size++] = c;
  }
  constexpr std::string_view view() const { return {chars.data(), size}; }
};

// Character loops rather than string_view::find/compare: g++ 12 with -fsanitize=undefined cannot
// constant-evaluate those on the name of a type with internal linkage.
constexpr bool starts_with_at(std::string_view s, std::size_t i, std::string_view prefix) {
  if (i + prefix.size() > s.size()) return false;
  for (std::size_t k = 0; k < prefix.size(); ++k)
    if (s[i + k] != prefix[k]) return false;
  return true;
}

constexpr bool contains(std::string_view s, std::string_view part) {
  for (std::size_t i = 0; i + part.size() <= s.size(); ++i)
    if (starts_with_at(s, i, part)) return true;
  return false;
}

/// The compiler's spelling of a type, rewritten into the one spelling all compilers share.
template <std::size_t N>
constexpr fixed_name<N> normalize_type_spelling(std::string_view s) {
  // Longer patterns first: "long long unsigned int" before "long unsigned int" before "long int".
  constexpr std::string_view from[] = {"std::__cxx11::", "{anonymous}", "long long unsigned int",
                                       "long unsigned int", "short unsigned int", "long long int",
                                       "long int", "short int", "> >"};
  constexpr std::string_view to[] = {"std::", "(anonymous namespace)", "unsigned long long", "unsigned long",
                                     "unsigned short", "long long", "long", "short", ">>"};
  fixed_name<N> out;
  std::size_t i = 0;
  while (i < s.size()) {
    bool replaced = false;
    for (std::size_t k = 0; k < std::size(from); ++k) {
      if (starts_with_at(s, i, from[k])) {
        // "> >" may repeat ("> > >"): keep the last '>' for the next round.
        if (from[k] == "> >") {
          out.append(">");
          i += 2;
        } else {
          out.append(to[k]);
          i += from[k].size();
        }
        replaced = true;
        break;
      }
    }
    if (!replaced) out.chars[out.size++] = s[i++];
  }
  return out;
}

template <class T>
struct spelled_name {
  static constexpr std::string_view raw = compiler_type_name<T>();
  static constexpr auto normalized = normalize_type_spelling<raw.size() + 32>(raw);
  static constexpr std::string_view value = normalized.view();
};

template <class T>
concept has_member_name = requires { { T::coactor_name } -> std::convertible_to<std::string_view>; };
template <class T>
concept has_wire_name = requires { { wire_name<T>::value } -> std::convertible_to<std::string_view>; };

template <class T>
struct type_name_of;

/// Joins compile-time names: "vector<" + "i32" + ">".
template <std::string_view const&... parts>
struct joined {
  static constexpr auto storage = [] {
    fixed_name<(parts.size() + ... + 0)> out;
    (out.append(parts), ...);
    return out;
  }();
  static constexpr std::string_view value = storage.view();
};

template <std::size_t N>
struct decimal {
  static constexpr auto storage = [] {
    fixed_name<20> out;
    std::size_t n = N;
    char digits[20];
    std::size_t count = 0;
    do {
      digits[count++] = static_cast<char>('0' + n % 10);
      n /= 10;
    } while (n);
    while (count) out.chars[out.size++] = digits[--count];
    return out;
  }();
  static constexpr std::string_view value = storage.view();
};

inline constexpr std::string_view open_angle = "<", close_angle = ">", comma = ",";
inline constexpr std::string_view vector_word = "vector", array_word = "array", map_word = "map",
                                  optional_word = "optional", variant_word = "variant";

template <std::string_view const& word, class... Args>
struct generic_name;
template <std::string_view const& word, class A>
struct generic_name<word, A>
    : joined<word, open_angle, type_name_of<A>::value, close_angle> {};
template <std::string_view const& word, class A, class B>
struct generic_name<word, A, B>
    : joined<word, open_angle, type_name_of<A>::value, comma, type_name_of<B>::value, close_angle> {};

template <class... Ts>
struct variant_args;
template <class A>
struct variant_args<A> {
  static constexpr std::string_view value = type_name_of<A>::value;
};
template <class A, class... Rest>
struct variant_args<A, Rest...> : joined<type_name_of<A>::value, comma, variant_args<Rest...>::value> {};

template <class T>
struct type_name_of {
  static constexpr std::string_view value = [] {
    if constexpr (has_wire_name<T>)
      return std::string_view(wire_name<T>::value);
    else if constexpr (has_member_name<T>)
      return std::string_view(T::coactor_name);
    else if constexpr (std::is_same_v<T, bool>)
      return std::string_view("bool");
    else if constexpr (std::is_integral_v<T>)
      return std::is_signed_v<T> ? std::array{"i8", "i16", "", "i32", "", "", "", "i64"}[sizeof(T) - 1]
                                 : std::array{"u8", "u16", "", "u32", "", "", "", "u64"}[sizeof(T) - 1];
    else if constexpr (std::is_same_v<T, float>)
      return std::string_view("f32");
    else if constexpr (std::is_same_v<T, double>)
      return std::string_view("f64");
    else
      return spelled_name<T>::value;
  }();
};

template <>
struct type_name_of<std::string> {
  static constexpr std::string_view value = "string";
};
template <>
struct type_name_of<bytes> {
  static constexpr std::string_view value = "bytes";
};
template <>
struct type_name_of<pid> {
  static constexpr std::string_view value = "pid";
};
template <>
struct type_name_of<process_name> {
  static constexpr std::string_view value = "process_name";
};
template <class T, class A>
struct type_name_of<std::vector<T, A>> : generic_name<vector_word, T> {};
template <class T, std::size_t N>
struct type_name_of<std::array<T, N>>
    : joined<array_word, open_angle, type_name_of<T>::value, comma, decimal<N>::value, close_angle> {};
template <class K, class V, class C, class A>
struct type_name_of<std::map<K, V, C, A>> : generic_name<map_word, K, V> {};
template <class K, class V, class H, class E, class A>
struct type_name_of<std::unordered_map<K, V, H, E, A>> : generic_name<map_word, K, V> {};
template <class T>
struct type_name_of<std::optional<T>> : generic_name<optional_word, T> {};
template <class... Ts>
struct type_name_of<std::variant<Ts...>>
    : joined<variant_word, open_angle, variant_args<Ts...>::value, close_angle> {};

}  // namespace detail

/// The longest wire name a frame may carry (docs/protocol.md); a longer name of a type that has a wire
/// form is a compile-time error (set a shorter one, see the top of this file).
inline constexpr std::size_t max_type_name_bytes = 1024;

/// The wire name of T (see the top of this file).
template <class T>
constexpr std::string_view type_name() noexcept {
  return detail::type_name_of<std::remove_cv_t<T>>::value;
}

}  // namespace coactor
