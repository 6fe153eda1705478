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
struct process_name;
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
                     std::is_same_v<T, std::string> || std::is_same_v<T, bytes> || std::is_same_v<T, pid> ||
                     std::is_same_v<T, process_name>)
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

// ---- why a type has no wire form, at compile time ----

template <class... T>
inline constexpr bool always_false = false;

template <class T, std::size_t I>
using field_type = std::remove_cvref_t<decltype(boost::pfr::get<I>(std::declval<T&>()))>;

/// The index of T's first field that has no wire form (field_count<T> if none).
template <class T, std::size_t... I>
constexpr std::size_t first_field_without_wire_form(std::index_sequence<I...>) {
  constexpr bool supported[] = {true, wire_supported<field_type<T, I>, T>()...};
  for (std::size_t i = 0; i < sizeof...(I); ++i)
    if (!supported[i + 1]) return i;
  return sizeof...(I);
}

/// Instantiated only to fail: the compiler's message names the message type, the field's index and the
/// field's type.
template <class Message, std::size_t FieldIndex, class FieldType>
struct message_field_has_no_wire_form {
  static_assert(always_false<FieldType>,
                "this message type chose a wire name (so it is meant for other nodes), but the field named "
                "here has no wire form: the types that have one are listed in codec.hpp");
  static constexpr bool value = false;
};

/// Fails to compile, explaining why T has no wire form. For a type that chose a wire name: it is meant
/// for other nodes, and finding out only when a message fails to leave would be too late.
template <class T>
constexpr bool explain_missing_wire_form() {
  if constexpr (!std::is_default_constructible_v<T>) {
    static_assert(always_false<T>, "this message type chose a wire name (so it is meant for other nodes), but it "
                                   "has no default constructor, which decoding needs");
    return false;
  } else if constexpr (reflectable<T>) {
    constexpr std::size_t i = first_field_without_wire_form<T>(std::make_index_sequence<field_count<T>>{});
    if constexpr (i < field_count<T>) return message_field_has_no_wire_form<T, i, field_type<T, i>>::value;
    return false;
  } else {
    static_assert(always_false<T>, "this message type chose a wire name (so it is meant for other nodes), but it "
                                   "is neither a type with a wire form (codec.hpp) nor an aggregate struct of such "
                                   "types (no constructors, base classes or private members)");
    return false;
  }
}

}  // namespace coactor::detail
