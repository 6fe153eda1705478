// coactor: exit_reason, why a process ended, and exit_message, what a process that traps exits
// receives instead of ending (see docs/faults.md).
//
// Every process ends with a reason: `normal` when its body returned, `exception` when an exception left
// it (the detail is the exception's what()), `killed` when it was killed (context::kill), or the reason
// of an exit signal it did not trap (context::exit, or a linked process that ended abnormally). Two
// reasons describe a process that could not be watched at all: `noproc` (it was already gone when the
// monitor or link was set up) and `noconnection` (its node went down or became unreachable, so its fate
// is unknown). A user may give any other reason as `other` with a text.
//
// Reasons travel between nodes: they are plain messages fields (the enum as its number, the detail as
// text).
#pragma once

#include <coactor/pid.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace coactor {

enum class exit_kind : std::uint8_t {
  normal = 0,        ///< the body returned
  exception = 1,     ///< an exception left the body; the detail is its what()
  killed = 2,        ///< killed (context::kill), or linked to a process that was
  noproc = 3,        ///< the process was already gone when monitored or linked
  noconnection = 4,  ///< its node went down or became unreachable
  other = 5,         ///< a reason given by the program (context::exit); the detail says what
};

struct exit_reason {
  exit_kind kind = exit_kind::normal;
  std::string detail;

  /// Anything but `normal`: an abnormal end, which takes linked processes down with it.
  bool abnormal() const noexcept { return kind != exit_kind::normal; }
  /// "normal", "killed", "exception: what()", "other: <detail>", ...
  std::string to_string() const;
  friend bool operator==(const exit_reason&, const exit_reason&) = default;

  static exit_reason normal() { return {}; }
  static exit_reason killed() { return {exit_kind::killed, {}}; }
  static exit_reason because(std::string why) { return {exit_kind::other, std::move(why)}; }
};

/// The name of a kind ("normal", "exception", "killed", "noproc", "noconnection", "other").
std::string_view to_string(exit_kind kind) noexcept;

/// Received, as an ordinary message, by a process that traps exits (context::trap_exits) when a linked
/// process ends or when another process sends it an exit signal (context::exit): `from` ended, or sent
/// the signal, with `reason`. A process that does not trap exits never sees one: it ends instead (or,
/// for a normal reason, ignores the signal).
struct exit_message {
  pid from;
  exit_reason reason;
};

}  // namespace coactor
