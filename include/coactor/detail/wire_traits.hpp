// coactor detail: which C++ types have a wire form, sorted into the kinds the codecs handle.
#pragma once

#include <coactor/reflect.hpp>
#include <coactor/type_name.hpp>

#include <array>
#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <type_traits>
#include <unordered_map>
#include <variant>
#include <vector>

namespace coactor {
class pid;
}

namespace coactor::detail {

template <class T> struct is_vector : std::false_type {};
template <class T, class A> struct is_vector<std::vector<T, A>> : std::true_type {};
template <class T> struct is_std_array : std::false_type {};
template <class T, std::size_t N> struct is_std_array<std::array<T, N>> : std::true_type {};
template <class T> struct is_map : std::false_type {};
template <class K, class V, class C, class A> struct is_map<std::map<K, V, C, A>> : std::true_type {};
template <class K, class V, class H, class E, class A> struct is_map<std::unordered_map<K, V, H, E, A>> : std::true_type {};
template <class T> struct is_optional : std::false_type {};
template <class T> struct is_optional<std::optional<T>> : std::true_type {};
template <class T> struct is_variant : std::false_type {};
template <class... Ts> struct is_variant<std::variant<Ts...>> : std::true_type {};

template <class T>
concept wire_integer = std::is_integral_v<T> && !std::is_same_v<T, bool> && sizeof(T) <= 8;
template <class T>
concept wire_float = std::is_same_v<T, float> || std::is_same_v<T, double>;
template <class T>
concept wire_enum = std::is_enum_v<T>;
template <class T>
concept map_key = std::is_same_v<T, std::string> || wire_integer<T>;

/// Whether T has a wire form. `Seen` are the structs being checked further up, so that recursive types
/// (a struct holding a vector of itself) are accepted instead of recursing forever.
template <class T, class... Seen>
constexpr bool wire_supported();

template <class V, class... Seen>
struct variant_supported;
template <class... Ts, class... Seen>
struct variant_supported<std::variant<Ts...>, Seen...> {
  static constexpr bool value = (wire_supported<Ts, Seen...>() && ...);
};

template <class T, class... Seen, std::size_t... I>
constexpr bool fields_supported(std::index_sequence<I...>) {
  return (wire_supported<std::remove_cvref_t<decltype(boost::pfr::get<I>(std::declval<T&>()))>, T, Seen...>() && ...);
}

template <class T, class... Seen>
constexpr bool wire_supported() {
  if constexpr ((std::is_same_v<T, Seen> || ...))
    return true;
  else if constexpr (std::is_same_v<T, bool> || wire_integer<T> || wire_float<T> || wire_enum<T> ||
                     std::is_same_v<T, std::string> || std::is_same_v<T, bytes> || std::is_same_v<T, pid>)
    return true;
  else if constexpr (is_vector<T>::value || is_std_array<T>::value || is_optional<T>::value)
    return wire_supported<typename T::value_type, Seen...>();
  else if constexpr (is_map<T>::value)
    return map_key<typename T::key_type> && wire_supported<typename T::mapped_type, Seen...>();
  else if constexpr (is_variant<T>::value)
    return variant_supported<T, Seen...>::value;
  else if constexpr (reflectable<T>)
    return fields_supported<T, Seen...>(std::make_index_sequence<field_count<T>>{});
  else
    return false;
}

/// True when T has a wire form (both codecs support exactly the same types).
template <class T>
inline constexpr bool has_wire_form = wire_supported<std::remove_cv_t<T>>();

}  // namespace coactor::detail
