// coactor: the library's units of time.
//
// All deadlines and timeouts are read from the node's scheduler (scheduler::now()), never from a clock
// directly, so that a simulated scheduler can run them on virtual time.
#pragma once

#include <chrono>

namespace coactor {

using duration = std::chrono::nanoseconds;
using time_point = std::chrono::time_point<std::chrono::steady_clock, duration>;

}  // namespace coactor
