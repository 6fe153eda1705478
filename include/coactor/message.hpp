// coactor: message, one received message of any type.
//
// A message owns its payload (move-only, like unique_ptr). It remembers who sent it and whether it is a
// request, so that `context::reply(msg, answer)` can answer it. Inspect it without knowing its type
// (`type_name()`, `is<T>()`), then read it (`as<T>()`, `get_if<T>()`).
//
// `received<T>` is a message known to hold a T (what `receive<T>()` returns): `*m` and `m->` reach the T,
// and it can still be replied to.
//
// A message is not thread-safe; it belongs to the process that received it (it may be moved elsewhere).
#pragma once

#include <coactor/detail/envelope.hpp>
#include <coactor/error.hpp>
#include <coactor/pid.hpp>

#include <string>
#include <string_view>
#include <utility>

namespace coactor {

class message {
 public:
  message() noexcept = default;
  explicit message(detail::envelope* e) noexcept : env_(e) {}
  message(message&& other) noexcept : env_(std::exchange(other.env_, nullptr)) {}
  message& operator=(message&& other) noexcept {
    if (this != &other) {
      detail::destroy(env_);
      env_ = std::exchange(other.env_, nullptr);
    }
    return *this;
  }
  message(const message&) = delete;
  message& operator=(const message&) = delete;
  ~message() { detail::destroy(env_); }

  /// False only for a moved-from or default-constructed message.
  explicit operator bool() const noexcept { return env_ != nullptr; }

  /// The name of the payload's type (its wire name).
  std::string_view type_name() const noexcept { return env_ && env_->type ? env_->type->name : std::string_view{}; }

  template <class T>
  bool is() const noexcept {
    return env_ && env_->type == &detail::message_type_of<detail::payload_t<T>>;
  }

  /// The payload if it is a T, else null.
  template <class T>
  detail::payload_t<T>* get_if() noexcept {
    return is<T>() ? static_cast<detail::payload_t<T>*>(env_->payload()) : nullptr;
  }
  template <class T>
  const detail::payload_t<T>* get_if() const noexcept {
    return is<T>() ? static_cast<const detail::payload_t<T>*>(env_->payload()) : nullptr;
  }

  /// The payload as a T. Throws bad_access if it is not a T.
  template <class T>
  detail::payload_t<T>& as() {
    if (auto* p = get_if<T>()) return *p;
    throw_bad_type(detail::message_type_of<detail::payload_t<T>>.name);
  }
  template <class T>
  const detail::payload_t<T>& as() const {
    if (auto* p = get_if<T>()) return *p;
    throw_bad_type(detail::message_type_of<detail::payload_t<T>>.name);
  }

  /// The process that sent it; the null pid when it was sent from outside any process.
  const pid& sender() const noexcept {
    static constexpr pid none{};
    return env_ ? env_->from : none;
  }

  /// True when the sender waits for a reply (it was sent with `request`).
  bool is_request() const noexcept { return env_ && env_->kind == detail::envelope_kind::request; }

  /// For the runtime: the envelope, and giving up ownership of it.
  const detail::envelope* envelope() const noexcept { return env_; }
  detail::envelope* release() noexcept { return std::exchange(env_, nullptr); }

 private:
  [[noreturn]] void throw_bad_type(std::string_view wanted) const;

  detail::envelope* env_ = nullptr;
};

/// A message known to hold a T.
template <class T>
class received : public message {
 public:
  using value_type = detail::payload_t<T>;

  received() noexcept = default;
  /// Precondition: `m.is<T>()`.
  explicit received(message m) noexcept : message(std::move(m)) {}

  value_type& value() noexcept { return *get_if<T>(); }
  const value_type& value() const noexcept { return *get_if<T>(); }
  value_type& operator*() noexcept { return value(); }
  const value_type& operator*() const noexcept { return value(); }
  value_type* operator->() noexcept { return get_if<T>(); }
  const value_type* operator->() const noexcept { return get_if<T>(); }
};

}  // namespace coactor
