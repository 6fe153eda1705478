// coactor: message, one received message of any type.
//
// A message owns its payload (move-only, like unique_ptr). It remembers who sent it and whether it is a
// request, so that `context::reply(msg, answer)` can answer it. Inspect it without knowing its type
// (`type_name()`, `is<T>()`, `to_json()`), then read it (`as<T>()`, `get_if<T>()`).
//
// A message from another node was decoded when it arrived, so it reads like a local one. If its type is
// unknown on this node (no code here sends or receives that type), it is kept opaque: `is<T>()` is false
// for every T, but its `type_name()` is known, `to_json()` works when it came as JSON, and it can be
// forwarded (context::forward) as it is, without decoding.
//
// `received<T>` is a message known to hold a T (what `receive<T>()` returns): `*m` and `m->` reach the T,
// and it can still be replied to.
//
// A message is not thread-safe; it belongs to the process that received it (it may be moved elsewhere).
#pragma once

#include <coactor/detail/envelope.hpp>
#include <coactor/error.hpp>
#include <coactor/pid.hpp>
#include <coactor/result.hpp>
#include <coactor/type_name.hpp>

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

  /// The wire name of the payload's type (see type_name.hpp), also for opaque messages.
  std::string_view type_name() const noexcept;

  template <class T>
  bool is() const noexcept {
    return env_ && env_->type == &detail::type_of<detail::payload_t<T>>();
  }

  /// True for a message from another node whose type this node does not know.
  bool is_opaque() const noexcept { return env_ && env_->type == &detail::opaque_type; }

  /// The payload as JSON text, for logs and tools. Fails with errc::not_serializable for a type without
  /// a wire form, and errc::unknown_type for an opaque message that came in the binary codec.
  result<std::string> to_json(int indent = -1) const;

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
    throw_bad_type(coactor::type_name<detail::payload_t<T>>());
  }
  template <class T>
  const detail::payload_t<T>& as() const {
    if (auto* p = get_if<T>()) return *p;
    throw_bad_type(coactor::type_name<detail::payload_t<T>>());
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
