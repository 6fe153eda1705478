// coactor detail: codec_state, the bookkeeping that the binary and JSON codecs carry through one
// encode or decode.
#pragma once

#include <coactor/codec.hpp>
#include <coactor/error.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace coactor::detail {

/// The bookkeeping of one encode or decode: limits, depth, allocation budget, and the error as it unwinds (the
/// field path is prepended level by level). One is made for every message, so the success path builds
/// nothing: the texts of a failure live in a block allocated by the first fail() or at_...() call.
class codec_state {
 public:
  codec_state(const decode_limits& limits, const wire_context& context) noexcept
      : limits_(limits), context_(context), budget_(limits.max_allocation) {}

  const wire_context& context() const noexcept { return context_; }

  /// Records a failure; returns false so that callers can `return state.fail(...)`.
  bool fail(errc code, std::string what);
  /// Adds a step to the path of the failure (as it unwinds, innermost first).
  void at_field(std::string_view name);
  void at_index(std::size_t i);
  void at_key(std::string_view key);

  bool enter() {
    if (++depth_ > limits_.max_depth) return too_deep();
    return true;
  }
  void leave() noexcept { --depth_; }

  /// Charges `bytes` of decoded content against the allocation budget.
  bool charge(std::size_t bytes) {
    if (bytes > budget_) return over_budget();
    budget_ -= bytes;
    return true;
  }

  error to_error(std::string_view type) const;

 private:
  struct failure {
    errc code = errc::bad_message;
    std::string what;
    std::string path;
  };
  // Failures are rare: their code is out of line (src/codec/codec_state.cpp), out of every caller.
  failure& failed();
  void prepend(std::string_view a, std::string_view b, std::string_view c);
  bool too_deep();
  bool over_budget();

  const decode_limits& limits_;
  const wire_context& context_;
  std::uint32_t depth_ = 0;
  std::size_t budget_;
  std::unique_ptr<failure> failure_;  // null until something fails
};

}  // namespace coactor::detail
