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
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>

namespace coactor {

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
/// its address, and arrive back as local pids.
struct wire_context {
  std::uint64_t local_incarnation = 0;
  std::string_view local_address;
};

/// The types that have a wire form.
template <class T>
concept serializable = detail::has_wire_form<T> && std::is_default_constructible_v<T>;

namespace detail {

/// The bookkeeping of one encode or decode: limits, depth, allocation budget, and the error as it unwinds (the
/// field path is prepended level by level). One is made for every message, so the success path builds
/// nothing: the texts of a failure live in a block allocated by the first fail() or at_...() call.
class codec_state {
 public:
  codec_state(const decode_limits& limits, const wire_context& context) noexcept
      : limits_(limits), context_(context), budget_(limits.max_allocation) {}

  const wire_context& context() const noexcept { return context_; }

  /// Records a failure; returns false so that callers can `return state.fail(...)`.
  bool fail(errc code, std::string what) {
    failure& f = failed();
    f.code = code;
    f.what = std::move(what);
    return false;
  }
  /// Adds a step to the path of the failure (as it unwinds, innermost first).
  void at_field(std::string_view name) { failed().path.insert(0, "." + std::string(name)); }
  void at_index(std::size_t i) { failed().path.insert(0, "[" + std::to_string(i) + "]"); }
  void at_key(std::string_view key) { failed().path.insert(0, "[\"" + std::string(key) + "\"]"); }

  bool enter() {
    if (++depth_ > limits_.max_depth)
      return fail(errc::too_large, "nested deeper than " + std::to_string(limits_.max_depth) + " levels");
    return true;
  }
  void leave() noexcept { --depth_; }

  /// Charges `bytes` of decoded content against the allocation budget.
  bool charge(std::size_t bytes) {
    if (bytes > budget_)
      return fail(errc::too_large, "decoded content exceeds " + std::to_string(limits_.max_allocation) + " bytes");
    budget_ -= bytes;
    return true;
  }

  error to_error(std::string_view type) const {
    if (!failure_) return error(errc::bad_message, std::string(type) + ": ");
    return error(failure_->code, std::string(type) + failure_->path + ": " + failure_->what);
  }

 private:
  struct failure {
    errc code = errc::bad_message;
    std::string what;
    std::string path;
  };
  failure& failed() {
    if (!failure_) failure_ = std::make_unique<failure>();
    return *failure_;
  }

  const decode_limits& limits_;
  const wire_context& context_;
  std::uint32_t depth_ = 0;
  std::size_t budget_;
  std::unique_ptr<failure> failure_;  // null until something fails
};

}  // namespace detail
}  // namespace coactor
