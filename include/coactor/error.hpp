// coactor: the one error type of the library.
//
// Every operation that can fail at run time (a receive or request that times out, a request to a dead
// process, a name that is taken, a peer that cannot be reached, a frame that does not decode) reports it
// as a `coactor::error`, carried by `coactor::result<T>` (see result.hpp) or passed to the node's error
// hook (see node.hpp). Nothing in the library signals such a failure by throwing.
//
// Misuse of an accessor (`result::value()` of an error, `message::as<T>()` of another type) is a bug in
// the caller, not a run-time failure; it throws `coactor::bad_access`.
#pragma once

#include <stdexcept>
#include <string>
#include <system_error>

namespace coactor {

/// What went wrong. The numeric values are part of the wire protocol (error replies carry them).
enum class errc : int {
  timeout = 1,          ///< no message, reply or connection within the given time
  dead_process = 2,     ///< the target process has exited, or never existed on its node
  no_such_name = 3,     ///< no process is registered under that name
  name_taken = 4,       ///< the name is already registered to another process
  already_registered = 5,  ///< the process already has a registered name
  request_to_self = 6,  ///< a process sent a request to itself (it could never answer)
  not_local = 7,        ///< the operation needs a process of this node
  unreachable = 8,      ///< the target node cannot be reached (no route, connection refused or lost)
  bad_message = 9,      ///< malformed or undecodable message or frame
  unknown_type = 10,    ///< a message type name this node does not know
  too_large = 11,       ///< a message or frame over the configured limit
  protocol = 12,        ///< protocol violation: bad handshake, incompatible version
  io = 13,              ///< an I/O operation failed (see the detail text)
  queue_full = 14,      ///< a bounded queue refused the message
  stopped = 15,         ///< the node or scheduler is shutting down
  exception = 16,       ///< a process ended with an exception
  unread_messages = 17, ///< a process ended with messages still in its mailbox (they are dropped)
  not_serializable = 18,///< the message type has no wire form, so it cannot leave this node
  rejected = 19,        ///< the process that handled a request answered it with this error (see the detail)
  node_down = 20,       ///< the target's node went down (or was lost) while waiting for it
};

/// The `std::error_category` of `errc`, named "coactor".
const std::error_category& error_category() noexcept;

inline std::error_code make_error_code(errc e) noexcept { return {static_cast<int>(e), error_category()}; }

/// A failure: a code (an `errc`, or any `std::error_code` such as one from Asio) and a free-form detail
/// text saying which process, name or peer was involved. Cheap to move; copying copies the text.
class error {
 public:
  error(errc code, std::string detail = {}) : code_(make_error_code(code)), detail_(std::move(detail)) {}
  error(std::error_code code, std::string detail = {}) : code_(code), detail_(std::move(detail)) {}

  const std::error_code& code() const noexcept { return code_; }
  const std::string& detail() const noexcept { return detail_; }

  /// "timeout: no reply from <pid> within 100ms": the code's message, then the detail if any.
  std::string message() const;

  friend bool operator==(const error& e, errc c) noexcept { return e.code_ == make_error_code(c); }

 private:
  std::error_code code_;
  std::string detail_;
};

/// Thrown only for misuse: reading the value of a failed result, or a message as the wrong type.
class bad_access : public std::logic_error {
 public:
  using std::logic_error::logic_error;
};

}  // namespace coactor

template <>
struct std::is_error_code_enum<coactor::errc> : std::true_type {};
