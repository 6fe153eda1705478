// coactor detail: the C++ spelling of a type, taken from the compiler at compile time.
#pragma once

#include <string_view>

// g++ spells a type declared in the probe function's own namespace without that namespace ("mine" for
// coactor::detail::mine); clang spells it in full. The probe lives in a namespace that declares no types.
namespace coactor::detail::spelling_probe {

template <class T>
constexpr std::string_view pretty_function() noexcept {
  return __PRETTY_FUNCTION__;
}

}  // namespace coactor::detail::spelling_probe

namespace coactor::detail {

/// The compiler's spelling of T, e.g. "app::ping". Used as the default wire name of a message type.
template <class T>
constexpr std::string_view compiler_type_name() noexcept {
  // g++:   "... pretty_function() [with T = app::ping; std::string_view = ...]"
  // clang: "... pretty_function() [T = app::ping]"
  constexpr std::string_view f = spelling_probe::pretty_function<T>();
  constexpr std::string_view key = "T = ";
  constexpr auto start = f.find(key) + key.size();
  constexpr auto semicolon = f.find(';', start);
  constexpr auto end = semicolon == std::string_view::npos ? f.rfind(']') : semicolon;
  return f.substr(start, end - start);
}

}  // namespace coactor::detail
