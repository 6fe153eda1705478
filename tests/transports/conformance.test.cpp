// The transport contract (docs/transports.md), checked against every transport of the project, each
// with what it declares: the two TCP transports (per-message also with 4 frames in flight per peer,
// which gives up ordering), loopback, the simulator's network, and a decorator around loopback.
#include <coactor/coactor.hpp>
#include <coactor/sim/network.hpp>
#include <coactor/sim/scheduler.hpp>
#include <coactor/sim/trace.hpp>
#include <coactor/transports/conformance.hpp>
#include <coactor/transports/loopback.hpp>
#include <coactor/transports/tcp_per_message.hpp>
#include <coactor/transports/tcp_pooled.hpp>

#include <catch2/catch.hpp>

#include "counting_transport.hpp"
#include "slowdown.hpp"

#include <atomic>
#include <memory>
#include <string>

using namespace coactor;
using namespace std::chrono_literals;

namespace conformance_test {

using transport_test::counting_transport;
using transport_test::frame_counts;
using transport_test::slowdown;

/// The simulator's world: one sim::scheduler on virtual time, one sim::network, on the test's thread.
class simulated_bed final : public conformance::bed {
 public:
  explicit simulated_bed(std::uint64_t seed) : scheduler_(seed), network_(scheduler_, trace_) {}

  coactor::scheduler& scheduler() noexcept override { return scheduler_; }
  std::unique_ptr<transport> make_transport() override { return network_.make_transport(); }
  std::string fresh_address(std::string_view name) override { return std::string(name) + "-" + std::to_string(++made_); }
  bool run_until(const std::function<bool()>& done, duration limit) override {
    const time_point end = scheduler_.now() + limit;
    for (time_point step = scheduler_.now(); !done() && step < end;) {
      step = std::min(step + 1ms, end);
      scheduler_.run_until(step);
    }
    return done();
  }

 private:
  sim::scheduler scheduler_;
  sim::trace trace_{false};
  sim::network network_;
  int made_ = 0;
};

}  // namespace conformance_test

using namespace conformance_test;

TEST_CASE("conformance: tcp_pooled", "[conformance][tcp][tcp_pooled]") {
  conformance::check({.name = "tcp_pooled",
                      .make = [] { return std::make_unique<tcp_pooled_transport>(); },
                      .slowdown = slowdown});
}

TEST_CASE("conformance: tcp_per_message", "[conformance][tcp][tcp_per_message]") {
  conformance::check({.name = "tcp_per_message",
                      .make = [] { return std::make_unique<tcp_per_message_transport>(); },
                      .properties = {.reaches_nodes_that_do_not_listen = false},
                      .slowdown = slowdown});
}

TEST_CASE("conformance: tcp_per_message with 4 frames in flight per peer", "[conformance][tcp][tcp_per_message]") {
  conformance::check({.name = "tcp_per_message, max_in_flight_per_peer = 4",
                      .make = [] { return std::make_unique<tcp_per_message_transport>(
                                       tcp_per_message_options{.max_in_flight_per_peer = 4}); },
                      .properties = {.ordered = false, .reaches_nodes_that_do_not_listen = false},
                      .slowdown = slowdown});
}

TEST_CASE("conformance: loopback", "[conformance][loopback]") {
  auto network = std::make_shared<loopback_network>();
  conformance::check({.name = "loopback",
                      .make = [network] { return std::make_unique<loopback_transport>(network); },
                      .slowdown = slowdown});
}

TEST_CASE("conformance: the simulator's network", "[conformance][sim]") {
  conformance::check({.name = "sim::network",
                      .properties = {},
                      .make_bed = [] { return std::make_unique<simulated_bed>(1); }});
}

TEST_CASE("conformance: a counting decorator around loopback", "[conformance][decorator]") {
  auto network = std::make_shared<loopback_network>();
  auto counts = std::make_shared<frame_counts>();
  int made = 0;
  conformance::check({.name = "counting decorator around loopback",
                      .make = [network, counts, &made] {
                        ++made;  // on the test's thread: the bed makes transports between runs
                        return std::make_unique<counting_transport>(std::make_unique<loopback_transport>(network), counts);
                      },
                      .slowdown = slowdown});
  CHECK(made > 0);  // the decorator was in the way
}
