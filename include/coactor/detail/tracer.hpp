// coactor detail: tracer, a watcher of every message a node delivers to a mailbox. The simulator's event
// trace uses it (node_options::tracer); it is not meant for programs.
#pragma once

#include <coactor/detail/envelope.hpp>
#include <coactor/pid.hpp>

namespace coactor::detail {

class tracer {
 public:
  virtual ~tracer() = default;
  /// Called on the node's scheduler thread, before `e` is pushed to the mailbox of `to`.
  virtual void delivering(const pid& to, const envelope& e) noexcept = 0;
};

}  // namespace coactor::detail
