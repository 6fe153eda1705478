// coactor: make<T>(fields...), a message built inside the library from its fields.
//
//     struct put { std::string key; std::string value; };
//     auto r = co_await self.request<std::string>(store, coactor::make<put>(key, value), 1s);
//     self.send(logger, coactor::make<line>(std::move(text), level));
//
// Wherever a message is taken (send, request, reply, node::send), `make<T>(args...)` builds the T right
// in the message's own storage: with braces when T is an aggregate (`T{args...}`), else with its
// constructor (`T(args...)`). No T is made, moved or destroyed in the calling coroutine.
//
// That is the form to use inside co_await: g++ 12 miscompiles a brace-built object that holds a
// std::string (or anything with a destructor) when it is created inside a co_await expression, such
// as `co_await self.request<R>(to, put{k, v}, 1s)`: the object is destroyed twice, a double free
// (docs/building.md, "Compilers"). With make<T>() no such object exists in your coroutine. It also
// saves a move of every field, so it is as good or better everywhere.
//
// The result holds references to `args`: use it in the call it is written in, as std::forward_as_tuple
// is used, not stored for later.
#pragma once

#include <cstddef>
#include <new>
#include <tuple>
#include <type_traits>
#include <utility>

namespace coactor {

namespace detail {

/// Constructs a T at `where` from `args`: with braces for an aggregate, else with a constructor.
template <class T, class... A>
T* construct_from(void* where, A&&... args) {
  if constexpr (std::is_aggregate_v<T>)
    return ::new (where) T{std::forward<A>(args)...};
  else
    return ::new (where) T(std::forward<A>(args)...);
}

/// What make<T>() returns: T's constructor arguments, by reference, until a message is built.
template <class T, class... A>
class message_builder {
 public:
  using value_type = T;

  explicit message_builder(A&&... args) noexcept : args_(std::forward<A>(args)...) {}

  /// Builds the T at `where` (storage for a T), from the arguments.
  T* build_at(void* where) && {
    return std::apply([where](A&&... a) { return construct_from<T>(where, std::forward<A>(a)...); },
                      std::move(args_));
  }

 private:
  std::tuple<A&&...> args_;
};

template <class T>
inline constexpr bool is_message_builder = false;
template <class T, class... A>
inline constexpr bool is_message_builder<message_builder<T, A...>> = true;

}  // namespace detail

/// A message of type T, built from `args` when the library stores it (see above).
template <class T, class... A>
detail::message_builder<T, A...> make(A&&... args) noexcept {
  static_assert(!std::is_reference_v<T> && !std::is_const_v<T>, "coactor::make<T>: T is the message type itself");
  return detail::message_builder<T, A...>(std::forward<A>(args)...);
}

}  // namespace coactor
