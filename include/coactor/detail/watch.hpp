// coactor detail: the bookkeeping behind monitors, links and exit signals (src/signals.cpp).
//
// Each process that is watched, watches or is linked gets a watch_list, made on first use and guarded by
// its process-table stripe (every change goes through process_table::with on that process's pid, and
// after the process is erased from the table nobody can reach the list but its exit).
//
// Between nodes the same operations travel as messages of one reserved type, `signal_message`, from
// the process that acts to the process it acts on; the receiving node's router hands them to the node
// (node_core::take_signal) instead of a mailbox.
#pragma once

#include <coactor/exit_reason.hpp>
#include <coactor/pid.hpp>

#include <cstdint>
#include <string_view>
#include <vector>

namespace coactor::detail {

enum class signal_op : std::uint8_t {
  monitor = 1,    ///< from starts monitoring to, with `ref`
  demonitor = 2,  ///< from stops monitoring to (`ref`)
  link = 3,       ///< from links to
  unlink = 4,     ///< from unlinks from to
  exit = 5,       ///< an exit signal from `from` to `to` with `reason` (`via_link`: from ended, linked)
  down = 6,       ///< the monitored `from` ended with `reason`: monitor `ref` of `to` fires
};

/// How an exit signal came about: it decides what a process that does not trap exits does with it.
enum class exit_via : std::uint8_t {
  call = 0,  ///< context::exit: a normal reason is ignored, an abnormal one ends the target
  link = 1,  ///< a linked process ended: the same, and the link is gone
  kill = 2,  ///< context::kill: ends the target whatever it traps
};

struct signal_message {
  static constexpr std::string_view coactor_name = "coactor.signal";
  signal_op op = signal_op::exit;
  exit_via via = exit_via::call;
  std::uint64_t ref = 0;
  exit_reason reason;
};

struct watch_entry {
  pid other;
  std::uint64_t ref = 0;  ///< the monitor; 0 for a link
};

/// One process's monitors and links.
struct watch_list {
  std::vector<watch_entry> watchers;  ///< processes monitoring this one (other = the watcher)
  std::vector<watch_entry> watching;  ///< monitors this process holds (other = the target)
  std::vector<pid> links;
  std::vector<pid> room_waiters;  ///< processes waiting for room in this one's full mailbox, in order

  static bool erase(std::vector<watch_entry>& v, std::uint64_t ref) noexcept {
    for (auto& w : v)
      if (w.ref == ref) {
        w = v.back();
        v.pop_back();
        return true;
      }
    return false;
  }
  static bool erase(std::vector<pid>& v, const pid& p) noexcept {
    for (auto& x : v)
      if (x == p) {
        x = v.back();
        v.pop_back();
        return true;
      }
    return false;
  }
};

}  // namespace coactor::detail
