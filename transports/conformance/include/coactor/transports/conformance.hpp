// coactor transports: conformance, the transport contract as a test any transport can run.
//
//     #include <coactor/transports/conformance.hpp>
//
//     TEST_CASE("my transport keeps the contract") {
//       coactor::conformance::check({.name = "mine", .make = [] { return std::make_unique<my_transport>(); }});
//     }
//
// check() runs every rule of docs/transports.md ("The contract") against nodes whose transports the
// subject makes, each rule in a Catch2 SECTION named after it, so a failure names the rule it breaks.
// Call it from a Catch2 TEST_CASE (link coactor::conformance and Catch2::Catch2WithMain).
//
// What a transport may legitimately do differently is declared (`declared_properties`), and the suite
// checks what was declared: an unordered transport must still deliver everything; one that cannot reach
// nodes that do not listen must report such frames as unreachable.
//
// By default the nodes of a rule share one thread_pool and run on real time (`threaded_bed`); a transport
// that needs a world of its own (a shared network object, the simulator's virtual time) gives a
// `make_bed` instead.
#pragma once

#include <coactor/scheduler.hpp>
#include <coactor/time.hpp>
#include <coactor/transport.hpp>
#include <coactor/wire/frame.hpp>

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace coactor::conformance {

/// What a transport promises beyond the rules every transport keeps.
struct declared_properties {
  /// Messages from one process to another arrive in the order they were sent. When false, the suite
  /// checks only that every one arrives.
  bool ordered = true;
  /// A node that does not listen gets its replies (over a connection it opened). When false, the suite
  /// checks that a frame for such a node is reported unreachable instead.
  bool reaches_nodes_that_do_not_listen = true;
  /// The largest frame (length prefix included) the transport carries. The suite sends one just over
  /// it: the request must fail (errc::too_large, or errc::unreachable with the receiver's reason), and
  /// both nodes go on.
  std::size_t max_frame_bytes = wire::frame_limits{}.max_frame_bytes;
  /// The transport tells its host when peers come and go (transport_host::peer_up, peer_down): a peer is
  /// up before the first frame from it is delivered, and a peer that shuts down is reported down once,
  /// after every frame held for it was given back, within `detection_time` of its going (a transport that
  /// learns it only by sending, such as tcp_per_message, on the next frame sent to it). When false, the
  /// suite checks that the transport calls neither.
  bool detects_failures = true;
  /// How long after a peer shut down it may still be unreported (the suite waits that long, times the
  /// slowdown, plus 2 s).
  duration detection_time = std::chrono::seconds(3);
};

/// Where the nodes of one rule live: a scheduler they all share, the transports they use, and a clock to
/// run them by. A bed is made for each rule and destroyed after its nodes.
class bed {
 public:
  virtual ~bed() = default;
  /// The scheduler every node of the rule runs on (and the stand-in host of the malformed-frames rule).
  virtual coactor::scheduler& scheduler() noexcept = 0;
  /// A new instance of the transport under test, not yet attached.
  virtual std::unique_ptr<transport> make_transport() = 0;
  /// What to give node::listen for a node named `name` to get an address no node has: "127.0.0.1:0".
  virtual std::string fresh_address(std::string_view name) = 0;
  /// Runs the scheduler until `done()` returns true or `limit` has passed on its clock (real or
  /// virtual), and returns done(). Between two calls nothing runs, so nodes may be created and
  /// destroyed. `done` may be called from any thread; it reads what processes record in atomics.
  virtual bool run_until(const std::function<bool()>& done, duration limit) = 0;
};

/// A bed of real threads: a coactor::thread_pool of `threads` workers and real time; transports from
/// `make`, listening at `host`:0. What `.make` of a subject gives.
std::unique_ptr<bed> threaded_bed(std::function<std::unique_ptr<transport>()> make, std::string host = "127.0.0.1",
                                  unsigned threads = 2);

/// The transport under test.
struct subject {
  /// For the report: "tcp_pooled".
  std::string name = {};
  /// Makes one transport instance per node (a threaded_bed). Or give `make_bed`.
  std::function<std::unique_ptr<transport>()> make = {};
  /// What it declares (see above).
  declared_properties properties = {};
  /// Makes the bed of one rule, for a transport that does not run on a thread_pool as it is.
  std::function<std::unique_ptr<bed>()> make_bed = {};
  /// Rules (by id: rule_ids()) this transport is known to break, while it is being fixed. They still run,
  /// and their failed checks are reported, but as warnings (Catch2's CHECK_NOFAIL) that do not fail the
  /// test. Empty is the goal.
  std::vector<std::string> known_violations = {};
  /// Message counts are divided by this (slower builds: 16 under ThreadSanitizer), time limits
  /// multiplied by it.
  int slowdown = 1;
};

/// The ids of the rules check() runs, in order: "request_reply", "order", ... (docs/transports.md).
std::vector<std::string> rule_ids();

/// Runs every rule of the contract against `s`, each in a SECTION named after the rule. Call it from a
/// Catch2 TEST_CASE.
void check(const subject& s);

}  // namespace coactor::conformance
