// coactor: codecs, the two wire forms of a message.
//
//   binary  compact, written straight from the struct and read straight into it (see codec/binary.hpp)
//   json    an object keyed by field names, for people and for programs in other languages (codec/json.hpp)
//
// Both handle the same types (`serializable`): bool, integers up to 64 bits, float, double, enums,
// std::string (UTF-8), coactor::bytes, std::vector, std::array, std::map / std::unordered_map with string
// or integer keys, std::optional, std::variant, pid, and aggregate structs of those (see reflect.hpp).
// docs/protocol.md gives both encodings byte by byte.
//
// Decoding never trusts its input: truncated data, wrong types, lengths larger than the input, nesting
// deeper than `decode_limits::max_depth`, invalid UTF-8 in a string, unknown variant alternatives and
// trailing bytes all end in an `error` (errc::bad_message, or errc::too_large past a limit) whose detail
// names the type, the field path ("app::order.items[3].name") and what was wrong. Nothing is allocated
// beyond `decode_limits::max_allocation` bytes of decoded content.
#pragma once

#include <coactor/detail/wire_traits.hpp>
#include <coactor/error.hpp>
#include <coactor/result.hpp>

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <type_traits>

namespace coactor {

class address_book;

enum class codec : std::uint8_t {
  binary = 1,
  json = 2,
};

/// "binary" or "json".
std::string_view to_string(codec c) noexcept;

/// Bounds on what decoding one message may cost.
struct decode_limits {
  std::size_t max_message_bytes = std::size_t{64} << 20;  ///< input larger than this is refused
  std::uint32_t max_depth = 64;                           ///< nesting of structs, containers, optionals
  std::size_t max_allocation = std::size_t{256} << 20;    ///< bytes of strings and container elements
};

/// The node on whose behalf a message is encoded or decoded: pids of its own processes travel with
/// its address, and arrive back as local pids; the addresses of other nodes' pids are interned in its
/// address book (null: the process book; see address_book.hpp).
struct wire_context {
  std::uint64_t local_incarnation = 0;
  std::string_view local_address;
  address_book* addresses = nullptr;
};

/// The types that have a wire form.
template <class T>
concept serializable = detail::has_wire_form<T> && std::is_default_constructible_v<T>;

}  // namespace coactor
