// coactor detail: the envelope, one allocation that carries one message through a mailbox.
//
// Layout: the header below, then the payload object at the next multiple of its alignment. A message
// that came from another node has been decoded on arrival into the same layout; one whose type this
// node does not know holds an opaque_payload (type == &opaque_type). The header
// says who sent it, what kind of traffic it is (plain message, request, reply, failure reply, timeout
// tick) and the tag that pairs a request with its reply. An envelope is owned by exactly one place at a
// time: the sender while it is built, then a mailbox, then the `message` handed to the receiver.
#pragma once

#include <coactor/detail/envelope_pool.hpp>
#include <coactor/detail/message_type.hpp>
#include <coactor/make.hpp>
#include <coactor/pid.hpp>

#include <cstddef>
#include <cstdint>
#include <new>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

namespace coactor::detail {

/// The payload type stored for a value of type T: decayed, with C strings stored as std::string, and
/// what make<T>() builds as T.
template <class T>
struct payload_type {
  using type = std::decay_t<T>;
};
template <class T, class... A>
struct payload_type<message_builder<T, A...>> {
  using type = T;
};
template <>
struct payload_type<const char*> {
  using type = std::string;
};
template <>
struct payload_type<char*> {
  using type = std::string;
};
template <class T>
using payload_t = typename payload_type<std::decay_t<T>>::type;

enum class envelope_kind : std::uint8_t {
  message,  ///< a plain send
  request,  ///< a request; `tag` is the requester's tag, the reply must carry it back
  reply,    ///< the answer to the request with this `tag`
  failure,  ///< the request with this `tag` failed; the payload is a coactor::error
  timeout,  ///< a receive timeout tick; `tag` is the receive's epoch; no payload
  wake,     ///< an exit signal is pending (process_base::pending_exit); no payload
  room,     ///< the full mailbox this process waits on has room for it now (send_when_room); no payload
};

struct envelope {
  envelope* next = nullptr;  ///< intrusive mailbox link
  const message_type* type = nullptr;
  pid from;
  std::uint64_t tag = 0;
  envelope_kind kind = envelope_kind::message;
  std::uint8_t size_class = envelope_pool::unpooled;  ///< how the envelope was allocated
  /// The codec (a coactor::codec value) of the frame this envelope arrived in, 0 if it did not come from
  /// another node; on an outgoing envelope, the codec to encode it with (0: the node's). A reply copies
  /// its request's, so that it goes back in the codec the requester used (docs/protocol.md). Fits in
  /// the header's padding: the envelope does not grow.
  std::uint8_t wire_codec = 0;
  /// Counted in its receiver's process_base::queued (it was admitted under a mailbox limit).
  bool counted = false;

  static constexpr std::size_t payload_offset(std::size_t align) noexcept {
    return (sizeof(envelope) + align - 1) & ~(align - 1);
  }
  void* payload() noexcept { return reinterpret_cast<char*>(this) + payload_offset(type->align); }
  const void* payload() const noexcept { return reinterpret_cast<const char*>(this) + payload_offset(type->align); }
};
static_assert(sizeof(void*) != 8 || sizeof(envelope) <= 56, "the envelope header grew past 56 bytes");

/// Builds an envelope holding a T constructed from `args` (or built by the one make<T>() in `args`).
/// Throws only what allocation or T's constructor throw.
template <class T, class... A>
envelope* make_envelope(A&&... args) {
  constexpr std::size_t offset = envelope::payload_offset(alignof(T));
  constexpr std::size_t size = offset + sizeof(T);
  constexpr std::uint8_t cls = envelope_pool::class_of(size, alignof(T));
  void* memory = envelope_pool::allocate(cls, size, alignof(T));
  auto* e = ::new (memory) envelope{};
  e->type = &type_of<T>();
  e->size_class = cls;
  try {
    void* where = static_cast<char*>(memory) + offset;
    if constexpr (sizeof...(A) == 1 && (is_message_builder<std::remove_cvref_t<A>> && ...))
      (std::move(args).build_at(where), ...);  // the one argument: make<T>(...)
    else
      ::new (where) T(std::forward<A>(args)...);
  } catch (...) {
    envelope_pool::deallocate(memory, cls, alignof(T));
    throw;
  }
  return e;
}

/// An envelope with room for a value of type `t`, not yet constructed (decoding writes it).
inline envelope* allocate_envelope(const message_type& t) {
  const std::size_t size = envelope::payload_offset(t.align) + t.size;
  const std::uint8_t cls = envelope_pool::class_of(size, t.align);
  auto* e = ::new (envelope_pool::allocate(cls, size, t.align)) envelope{};
  e->type = &t;
  e->size_class = cls;
  return e;
}

/// Frees an envelope from allocate_envelope() whose value was never constructed.
inline void free_unconstructed(envelope* e) noexcept {
  const std::uint8_t cls = e->size_class;
  const std::size_t align = e->type->align;
  e->~envelope();
  envelope_pool::deallocate(e, cls, align);
}

/// An envelope holding a message of a type this node does not know, as it arrived.
inline envelope* make_opaque_envelope(opaque_payload payload) {
  envelope* e = allocate_envelope(opaque_type);
  ::new (e->payload()) opaque_payload(std::move(payload));
  return e;
}

/// An envelope without payload (timeout ticks).
inline envelope* make_bare_envelope(envelope_kind kind, std::uint64_t tag) {
  constexpr std::uint8_t cls = envelope_pool::class_of(sizeof(envelope), alignof(envelope));
  auto* e = ::new (envelope_pool::allocate(cls, sizeof(envelope), alignof(envelope))) envelope{};
  e->size_class = cls;
  e->kind = kind;
  e->tag = tag;
  return e;
}

/// Destroys the payload and frees the envelope. Accepts null.
inline void destroy(envelope* e) noexcept {
  if (!e) return;
  const message_type* t = e->type;
  if (t && t->destroy) t->destroy(e->payload());
  const std::uint8_t cls = e->size_class;
  const std::size_t align = t ? t->align : alignof(envelope);
  e->~envelope();
  envelope_pool::deallocate(e, cls, align);
}

}  // namespace coactor::detail
