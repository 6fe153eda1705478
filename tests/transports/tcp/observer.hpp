// A node that observes its peers for the failure-detection tests: its transport sits inside a counting
// decorator (../counting_transport.hpp), which records every peer_up and peer_down, with the time.
#pragma once

#include "../counting_transport.hpp"
#include "tcp_support.hpp"

#include <catch2/catch.hpp>

namespace tcp_test {

using transport_test::counting_transport;
using transport_test::frame_counts;

/// A node on `t`, watched; it listens, and serves (which keeps it running).
struct observer {
  explicit observer(std::unique_ptr<transport> t)
      : counts(std::make_shared<frame_counts>()), n("observer", std::make_unique<counting_transport>(std::move(t), counts)) {
    address = n.listen();
    n.serve_here();
  }
  explicit observer(const tcp_pooled_options& options) : observer(std::make_unique<tcp_pooled_transport>(options)) {}
  std::shared_ptr<frame_counts> counts;
  test_node n;
  std::string address;
};

/// Starts the observer, which asks the server at `address` for a pong until it answers: the two meet.
/// Returns the incarnation the observer was told is up there.
inline std::uint64_t meet(observer& o, const std::string& address) {
  auto answered = std::make_shared<std::atomic<bool>>(false);
  const process_name there{address, "server"};
  o.n->spawn([answered, there](context self) -> process {
    for (int i = 0; i < 20 && !answered->load(); ++i) {
      auto r = co_await self.request<std::string>(there, coactor::make<ping>(i, "hello", pid{}), 2s);
      if (r) *answered = true;
    }
  });
  o.n.start();
  REQUIRE(wait_until([&] { return answered->load(); }, 10s * slowdown));
  const auto met = o.counts->about();
  INFO(o.counts->dump());
  REQUIRE(met.size() == 1);
  REQUIRE(met[0].up);
  CHECK(met[0].peer.address == address);
  return met[0].peer.incarnation;
}

}  // namespace tcp_test
