// coactor: supervisors, processes that start other processes and restart them when they end (as
// Erlang/OTP's supervisor). See docs/faults.md.
//
//     coactor::process worker(coactor::context self, int n);
//
//     std::vector<coactor::child_spec> workers;
//     for (int i = 0; i < 3; ++i)
//       workers.push_back({.id = "w" + std::to_string(i),
//                          .start = [i](coactor::context c) { return worker(c, i); },
//                          .name = "worker" + std::to_string(i)});
//     coactor::pid sup = node.spawn(coactor::supervise, coactor::supervisor_options{}, std::move(workers));
//
// A supervisor is an ordinary process running `supervise`: spawn it with node::spawn, context::spawn or
// context::spawn_linked, or as the child of another supervisor (supervisor_child), which makes a tree.
//
// What it does:
// - It traps exits, then starts its children in the order of the specs, each with spawn_linked (so a
//   child ends with its supervisor), and registers the child's `name`, if any, to the new pid.
// - When a child ends, its restart type says whether that calls for a restart: `permanent` always (a
//   normal end too), `transient` only after an abnormal end, `temporary` never (the child is forgotten).
//   A transient child that ended normally stays in the list, not running.
// - A restart follows the strategy: `one_for_one` starts that child again; `rest_for_one` stops the
//   children started after it (the last first) and starts it and them again, in order; `one_for_all`
//   stops all the others (the last first) and starts them all again, in order. The children started
//   again are all those of the group but the temporary ones (a transient child that had ended normally
//   is started too, as in Erlang); a temporary child stopped for a sibling's restart is forgotten.
// - Restart intensity: each restart (one per child ending that calls for one, however many children it
//   restarts) is counted at the scheduler's time (context::now(), virtual under the simulator). When
//   more than `max_restarts` happened within `within` (the last `within`, bounds included), the
//   supervisor does not restart: it stops all its children (the last first) and ends with the reason
//   `restart_intensity_exceeded()`, an abnormal reason, which goes to its linked processes (its own
//   supervisor restarts it according to its strategy) and its monitors.
// - Stopping a child: with a `shutdown` time above zero, the supervisor sends it an exit signal with the
//   reason `shutdown_reason()` and waits up to that long for it to end, then kills it; with zero it
//   kills it at once. Either way it waits until the child has ended, so its name is free again before a
//   restart registers it to the new pid.
// - An exit signal with an abnormal reason from a process that is not one of its children (the process
//   that started it with spawn_linked and ended, a parent supervisor stopping it, context::exit) makes the supervisor
//   stop all its children and end with that reason: it behaves as a process that does not trap exits,
//   but takes its children down in order first. A normal exit signal is ignored. context::kill ends it
//   at once; its children then end through their links (reason `killed`; a child supervisor stops its
//   own children first).
// - Names: if a child's name is still held by another process when the child starts (typically the
//   previous instance of that child, still ending after its own supervisor was killed), the supervisor
//   waits for that process to end (a monitor), up to the child's shutdown time or 5 s, whichever is
//   longer, and registers the name then.
// - If a child cannot be started (its `start` throws, or its name stays taken), the supervisor stops
//   the children it runs and ends with `exit_reason::because("cannot start child '<id>': <why>")`.
// - It answers the request `which_children` with its children (child_info, in start order). Other
//   messages are dropped.
// - It never ends on its own otherwise: stop it with context::exit(sup, coactor::shutdown_reason()) (its
//   children end in order) or kill.
//
// Children must stay linked to their supervisor (not call unlink on it): it learns of their ends from
// the links alone.
//
// Ordering: a restarted child starts after the children that must stop for it have ended, and
// children start in spec order; its name names the new pid before the supervisor handles its next
// message. A request to a child's name between the child's end and its restart fails
// (errc::no_such_name), as any message to it is a dead letter.
//
// Threads: a supervisor runs on its node's scheduler like any process; the children run on the same
// node. Between nodes, a supervisor supervises only local children, but it can be monitored, linked and
// asked `which_children` from anywhere.
#pragma once

#include <coactor/context.hpp>
#include <coactor/exit_reason.hpp>
#include <coactor/pid.hpp>
#include <coactor/process.hpp>
#include <coactor/time.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace coactor {

/// Which children a restart starts again (see above).
enum class restart_strategy : std::uint8_t {
  one_for_one = 0,   ///< only the child that ended
  one_for_all = 1,   ///< every child: the others are stopped first
  rest_for_one = 2,  ///< the child that ended and those started after it: those are stopped first
};

/// When a child that ended is restarted (see above).
enum class restart_type : std::uint8_t {
  permanent = 0,  ///< always
  transient = 1,  ///< after an abnormal end only
  temporary = 2,  ///< never
};

/// One child of a supervisor.
struct child_spec {
  /// Names the child in which_children and in the supervisor's reasons; unique within a supervisor.
  std::string id;
  /// Starts the child: called in the supervisor's process (with the child's context) at each start,
  /// it returns the child's body, e.g. `[](coactor::context c) { return worker(c, 42); }`.
  std::function<process(context)> start;
  restart_type restart = restart_type::permanent;
  /// A name registered to the child's pid at each start (see node::register_name); empty: none.
  std::string name = {};
  /// How long the child has to end after the exit signal `shutdown_reason()` before it is killed;
  /// zero or less: killed at once; duration::max(): waits as long as it takes (what a child supervisor
  /// needs to stop its own children; supervisor_child sets it).
  duration shutdown = std::chrono::seconds(5);
};

struct supervisor_options {
  restart_strategy strategy = restart_strategy::one_for_one;
  /// At most this many restarts within `within`; one more and the supervisor gives up (0: the first
  /// restart is one too many).
  int max_restarts = 3;
  duration within = std::chrono::seconds(5);
};

/// The body of a supervisor process: `node.spawn(coactor::supervise, options, children)`.
/// Ends only abnormally: restart_intensity_exceeded(), the reason of an exit signal from a process that
/// is not its child, a child that could not be started, or killed.
process supervise(context self, supervisor_options options, std::vector<child_spec> children);

/// A child spec that runs a supervisor of its own (a subtree), with shutdown = duration::max().
child_spec supervisor_child(std::string id, supervisor_options options, std::vector<child_spec> children);

/// The reason a supervisor ends with when its restart intensity is exceeded:
/// exit_kind::other, "restart intensity exceeded".
exit_reason restart_intensity_exceeded();
/// The reason of the exit signal that stops a child: exit_kind::other, "shutdown". Send it to a
/// supervisor (context::exit) to stop it and its children in order.
exit_reason shutdown_reason();

/// A request to a supervisor; the reply is a std::vector<child_info>, its children in start order.
struct which_children {};

/// One child, as which_children reports it.
struct child_info {
  std::string id;
  pid process;  ///< the null pid when it is not running (a transient child that ended normally)
  restart_type restart = restart_type::permanent;
  std::string name;
};

}  // namespace coactor
