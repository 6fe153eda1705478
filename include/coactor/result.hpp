// coactor: result<T>, a value or an error.
//
// The library's one way of reporting run-time failures to a caller (see error.hpp). Shaped like
// C++23's std::expected: test it with `if (r)`, read the value with `*r` / `r->` / `r.value()`, the
// failure with `r.error()`. `value()` of a failed result throws `bad_access` (a bug in the caller).
#pragma once

#include <coactor/error.hpp>

#include <optional>
#include <type_traits>
#include <utility>
#include <variant>

namespace coactor {

template <class T>
class [[nodiscard]] result {
 public:
  using value_type = T;

  template <class U = T, class = std::enable_if_t<std::is_constructible_v<T, U&&> &&
                                                  !std::is_same_v<std::decay_t<U>, result> &&
                                                  !std::is_same_v<std::decay_t<U>, coactor::error>>>
  result(U&& value) : v_(std::in_place_index<0>, std::forward<U>(value)) {}
  result(coactor::error e) : v_(std::in_place_index<1>, std::move(e)) {}
  result(errc code, std::string detail = {}) : v_(std::in_place_index<1>, code, std::move(detail)) {}

  bool has_value() const noexcept { return v_.index() == 0; }
  explicit operator bool() const noexcept { return has_value(); }

  T& value() & { check(); return *std::get_if<0>(&v_); }
  const T& value() const& { check(); return *std::get_if<0>(&v_); }
  T&& value() && { check(); return std::move(*std::get_if<0>(&v_)); }

  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  /// The failure. Precondition: `!has_value()`.
  const coactor::error& error() const& {
    if (has_value()) throw bad_access("coactor::result::error() on a result that holds a value");
    return *std::get_if<1>(&v_);
  }

  template <class U>
  T value_or(U&& fallback) const& {
    return has_value() ? *std::get_if<0>(&v_) : static_cast<T>(std::forward<U>(fallback));
  }

 private:
  void check() const {
    if (!has_value()) throw bad_access("coactor::result::value() on an error: " + std::get_if<1>(&v_)->message());
  }
  std::variant<T, coactor::error> v_;
};

/// The success-or-failure of an operation that has no value. Success is the common case, often on a
/// hot path (every message encoded or decoded), so it constructs nothing: the error exists only on failure.
template <>
class [[nodiscard]] result<void> {
 public:
  using value_type = void;

  result() noexcept {}  // (not `= default`: `return {};` would then zero the unused error's bytes)
  result(coactor::error e) : error_(std::move(e)) {}
  result(errc code, std::string detail = {}) : error_(std::in_place, code, std::move(detail)) {}

  bool has_value() const noexcept { return !error_.has_value(); }
  explicit operator bool() const noexcept { return has_value(); }
  void value() const {
    if (error_) throw bad_access("coactor::result::value() on an error: " + error_->message());
  }
  const coactor::error& error() const& {
    if (!error_) throw bad_access("coactor::result::error() on a result that holds a value");
    return *error_;
  }

 private:
  std::optional<coactor::error> error_;  // empty: success
};

}  // namespace coactor
