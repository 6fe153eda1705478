// coactor: reflection of message structs: their fields and the fields' names.
//
// A message struct is an aggregate that Boost.PFR can reflect: no base classes, no private members, no
// reference members, no C arrays (use std::array). `field_count<T>` and `for_each_field(value, f)` come
// from PFR; `field_name<T, I>()` is ours, because Boost 1.81's PFR has no names.
//
// How the name is found at compile time: the address of field I of an object that is declared but never
// defined (`fake_object<T>`) is a constant, so it can be a template argument; the compiler's
// __PRETTY_FUNCTION__ of a function templated on it spells that argument out, ending with the field's
// name, which we slice off. Nothing is ever read from the object.
//
// Types in an anonymous namespace cannot be used that way on clang; for consistency between compilers
// their fields are named by position on every compiler: "_0", "_1", ... Classes local to a function
// cannot be reflected by clang at all (g++ can): declare message types at namespace scope.
#pragma once

#include <coactor/type_name.hpp>

#include <boost/pfr/core.hpp>
#include <boost/pfr/tuple_size.hpp>

#include <array>
#include <cstddef>
#include <string_view>
#include <type_traits>
#include <utility>

namespace coactor {

/// True for the structs that reflect as messages (aggregates that are not arrays or unions).
template <class T>
concept reflectable = std::is_aggregate_v<T> && std::is_class_v<T> && !std::is_union_v<T>;

template <reflectable T>
inline constexpr std::size_t field_count = boost::pfr::tuple_size_v<T>;

/// Calls f(field) for each field of `value` in declaration order.
template <class T, class F>
  requires reflectable<std::remove_cvref_t<T>>
constexpr void for_each_field(T&& value, F&& f) {
  boost::pfr::for_each_field(std::forward<T>(value), std::forward<F>(f));
}

namespace detail {

template <class T>
extern const T fake_object;  // never defined: only addresses of its fields are taken, at compile time

template <class T>
struct field_address {  // clang needs the pointer inside a class type to print its target
  const T* address;
};

template <auto Address>
consteval std::string_view spelled_field() {
  return __PRETTY_FUNCTION__;
}

constexpr bool is_identifier_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

/// The trailing identifier before the closing "}" (clang: "{&fake_object.count}") or ")}"
/// (g++: "{(& fake_object<app::ping>.app::ping::count)}").
constexpr std::string_view last_identifier(std::string_view spelled) {
  std::size_t end = spelled.rfind('}');
  if (end > 0 && spelled[end - 1] == ')') --end;
  std::size_t begin = end;
  while (begin > 0 && is_identifier_char(spelled[begin - 1])) --begin;
  return spelled.substr(begin, end - begin);
}

template <class T>
constexpr bool has_linkage() {
  constexpr std::string_view name = spelled_name<T>::value;
  return !contains(name, "(anonymous namespace)") && !contains(name, ")::");
}

#if defined(__clang__)
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Wundefined-var-template"
#endif
template <class T, std::size_t I>
consteval std::string_view reflected_field_name() {
  using field_type = std::remove_cvref_t<decltype(boost::pfr::get<I>(fake_object<T>))>;
  constexpr field_address<field_type> address{&boost::pfr::get<I>(fake_object<T>)};
  return last_identifier(spelled_field<address>());
}
#if defined(__clang__)
#pragma clang diagnostic pop
#endif

template <std::size_t I>
struct positional_name {
  static constexpr auto storage = [] {
    fixed_name<21> out;
    out.append("_");
    out.append(decimal<I>::value);
    return out;
  }();
  static constexpr std::string_view value = storage.view();
};

template <class T, std::size_t I>
struct field_name_of {
  static constexpr std::string_view value = [] {
    if constexpr (has_linkage<T>())
      return reflected_field_name<T, I>();
    else
      return positional_name<I>::value;
  }();
};

template <class T, std::size_t... I>
constexpr std::array<std::string_view, sizeof...(I)> all_field_names(std::index_sequence<I...>) {
  return {field_name_of<T, I>::value...};
}

}  // namespace detail

/// The name of field I of T, as declared ("count"), or "_I" for types without linkage.
template <reflectable T, std::size_t I>
constexpr std::string_view field_name() noexcept {
  return detail::field_name_of<T, I>::value;
}

/// All field names of T, in declaration order.
template <reflectable T>
inline constexpr std::array<std::string_view, field_count<T>> field_names =
    detail::all_field_names<T>(std::make_index_sequence<field_count<T>>{});

}  // namespace coactor
