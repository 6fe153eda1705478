// coactor detail: error_reporter, a node's error hook (node::on_error) and the reports passed to it.
//
// A report is an error and the pid of the process of this node it concerns (null when none). Until a
// hook is set, reports are printed to stderr as one line, "coactor[<node name>] <message> (<pid>)".
//
// Threads: report() and set_hook() are thread-safe. report() calls the hook on the reporting thread,
// possibly concurrently with other reports, and with the hook that was current when it started: a
// hook replaced meanwhile lives on until its last call returns. A hook that throws is ignored.
#pragma once

#include <coactor/error.hpp>
#include <coactor/pid.hpp>

#include <functional>
#include <memory>
#include <mutex>
#include <string>

namespace coactor::detail {

class error_reporter {
 public:
  using hook = std::function<void(const error&, const pid&)>;

  /// Reports print to stderr, tagged with `node_name`, until set_hook().
  explicit error_reporter(std::string node_name);
  error_reporter(const error_reporter&) = delete;
  error_reporter& operator=(const error_reporter&) = delete;

  /// Passes `e`, about `who`, to the hook. An empty hook drops it.
  void report(const error& e, const pid& who) noexcept;
  /// Replaces the hook (an empty one silences reports).
  void set_hook(hook h);

 private:
  std::mutex mutex_;                ///< guards hook_ (the pointer, not the call)
  std::shared_ptr<const hook> hook_;
};

}  // namespace coactor::detail
