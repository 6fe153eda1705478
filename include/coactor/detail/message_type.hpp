// coactor detail: message_type, what the runtime knows about a payload type without knowing the type:
// its wire name, size, how to destroy it, and how to encode and decode it (when it has a wire form).
//
// Every type that is sent, received or inspected as a message gets one constant `message_type_of<T>`,
// and types with a wire form are entered, by wire name, in a process-wide registry when the program
// starts, so that a node receiving a frame can find the C++ type its name stands for.
#pragma once

#include <coactor/codec.hpp>
#include <coactor/codec/binary.hpp>
#include <coactor/codec/json.hpp>
#include <coactor/result.hpp>
#include <coactor/type_name.hpp>

#include <cstddef>
#include <new>
#include <string>
#include <string_view>
#include <type_traits>

namespace coactor::detail {

struct message_type {
  std::string_view name;
  std::size_t size;
  std::size_t align;
  void (*destroy)(void* value) noexcept;  ///< null when the type is trivially destructible
  /// Appends the encoding of `value` to `out`. Null when the type has no wire form.
  result<void> (*encode)(const void* value, codec format, std::string& out, const wire_context& context);
  /// Constructs the value in `storage` from `in`; on failure leaves `storage` unconstructed.
  result<void> (*decode)(void* storage, codec format, std::string_view in, const decode_limits& limits,
                         const wire_context& context);
};

template <class T>
void destroy_value(void* p) noexcept {
  static_cast<T*>(p)->~T();
}

template <class T>
result<void> encode_value(const void* value, codec format, std::string& out, const wire_context& context) {
  const T& v = *static_cast<const T*>(value);
  return format == codec::json ? json::encode(v, out, context) : binary::encode(v, out, context);
}

template <class T>
result<void> decode_value(void* storage, codec format, std::string_view in, const decode_limits& limits,
                          const wire_context& context) {
  T* v = ::new (storage) T{};
  result<void> r = format == codec::json ? json::decode_into(in, *v, limits, context)
                                         : binary::decode_into(in, *v, limits, context);
  if (!r) v->~T();
  return r;
}

template <class T>
inline constexpr message_type message_type_of = [] {
  message_type t{type_name<T>(), sizeof(T), alignof(T),
                 std::is_trivially_destructible_v<T> ? nullptr : &destroy_value<T>, nullptr, nullptr};
  if constexpr (serializable<T>) {
    static_assert(type_name<T>().size() <= max_type_name_bytes,
                  "this type's wire name is longer than a frame allows: give it a shorter one (type_name.hpp)");
    t.encode = &encode_value<T>;
    t.decode = &decode_value<T>;
  } else if constexpr (has_member_name<T> || has_wire_name<T>) {
    static_cast<void>(explain_missing_wire_form<T>());
  }
  return t;
}();

// ---- the registry of wire names ----

/// Enters `t` under its name. A second, different type with the same name makes the name ambiguous:
/// frames carrying it are then refused with an error rather than decoded as either type.
void register_type(const message_type& t) noexcept;

/// The type registered under `name`; null if none; &ambiguous_type if two types claim it.
const message_type* find_type(std::string_view name) noexcept;

extern const message_type ambiguous_type;

template <class T>
inline const bool registered = (register_type(message_type_of<T>), true);

/// message_type_of<T>, making sure T is in the registry (types with a wire form only).
template <class T>
const message_type& type_of() noexcept {
  if constexpr (serializable<T>) static_cast<void>(registered<T>);
  return message_type_of<T>;
}

/// The payload of a message of a type this node does not know: kept as it arrived, so that it can be
/// inspected by name, printed (JSON) and forwarded without decoding. Its envelopes have type
/// &opaque_type (see envelope.hpp: make_opaque_envelope), never a type of their own.
struct opaque_payload {
  codec format;
  std::string type_name;
  std::string bytes;
};

/// The type of opaque messages: no wire form of its own (the router sends the bytes as they came).
extern const message_type opaque_type;

}  // namespace coactor::detail
