#include <coactor/coactor.hpp>
#include <coactor/transports/loopback.hpp>

#include <catch2/catch.hpp>

#include "../counting_transport.hpp"

#include <optional>
#include <string>
#include <thread>

using namespace coactor;
using namespace std::chrono_literals;

// Request/reply, pids across nodes, unknown names, dead pids, unreachable addresses and error replies
// are rules of the transport contract, checked for loopback by tests/transports/conformance.test.cpp.
// Here: what is loopback's own.

namespace loopback_test {
struct numbered {
  int sender;
  int n;
};
}  // namespace loopback_test

using namespace loopback_test;

// Deliveries to a node on several threads still arrive in the order each sender sent them (the target's
// inbox is drained by one task at a time, not one posted task per frame that threads could race on).
TEST_CASE("loopback: order per sender holds with both nodes on several threads", "[loopback]") {
  constexpr int senders = 4, per_sender = 20'000;
  auto network = std::make_shared<loopback_network>();
  thread_pool pool_a(2), pool_b(3);
  node a(pool_a, {.name = "a", .transport = std::make_unique<loopback_transport>(network)});
  node b(pool_b, {.name = "b", .transport = std::make_unique<loopback_transport>(network)});
  REQUIRE(a.listen("a:0"));
  REQUIRE(b.listen("b:0"));
  int out_of_order = 0, received = 0;
  pid counter = b.spawn([&](context self) -> process {
    int next[senders] = {};
    while (received < senders * per_sender) {
      auto m = co_await self.receive<numbered>(20s);
      if (!m) co_return;
      if ((*m)->n != next[(*m)->sender]) ++out_of_order;
      next[(*m)->sender] = (*m)->n + 1;
      ++received;
    }
  });
  for (int s = 0; s < senders; ++s)
    a.spawn([counter, s](context self) -> process {
      for (int i = 0; i < per_sender; ++i) {
        self.send(counter, numbered{s, i});
        if (i % 256 == 255) co_await self.yield_now();  // and move between a's threads meanwhile
      }
    });
  std::thread b_thread([&] { pool_b.run(); });
  pool_a.run();
  b_thread.join();
  CHECK(received == senders * per_sender);
  CHECK(out_of_order == 0);
}

// A frame that reached a node's inbox but not its processes before the node went away comes back to
// the sender: the request fails at once with errc::unreachable instead of waiting for its timeout.
TEST_CASE("loopback: frames a node had not delivered when it shut down come back to their senders", "[loopback]") {
  auto network = std::make_shared<loopback_network>();
  thread_pool pool_a(1), pool_b(1);  // pool_b never runs: b delivers nothing
  node a(pool_a, {.name = "a", .transport = std::make_unique<loopback_transport>(network)});
  auto b = std::make_unique<node>(pool_b, node_options{.name = "b", .transport = std::make_unique<loopback_transport>(network)});
  REQUIRE(a.listen("a:0"));
  REQUIRE(b->listen("b:0"));
  REQUIRE(b->register_name("server", b->spawn([](context self) -> process { co_await self.receive(); })));
  const std::string b_address = b->address().to_string();
  std::optional<error> failed;
  a.spawn([&](context self) -> process {
    process_name server{b_address, "server"};
    auto r = co_await self.request(server, 1, 30s);
    if (!r) failed = r.error();
  });
  std::thread remover([&] {
    std::this_thread::sleep_for(200ms);  // the request sits in b's inbox by now
    b.reset();
  });
  const auto start = std::chrono::steady_clock::now();
  pool_a.run();
  remover.join();
  CHECK(std::chrono::steady_clock::now() - start < 20s);
  REQUIRE(failed);
  CHECK(*failed == errc::unreachable);
}

// Failure detection: a peer is up at the first contact, on both sides; when a node shuts down, the nodes
// that had it up hear it at once (no timer), after the frames it had not delivered came back to them.
TEST_CASE("loopback: peers are up at the first contact, and down at once when one shuts down", "[loopback][failure_detection]") {
  using transport_test::counting_transport;
  using transport_test::frame_counts;
  auto network = std::make_shared<loopback_network>();
  auto at_a = std::make_shared<frame_counts>(), at_b = std::make_shared<frame_counts>();
  thread_pool pool_a(1), pool_b(1);
  node a(pool_a, {.name = "a", .transport = std::make_unique<counting_transport>(std::make_unique<loopback_transport>(network), at_a)});
  auto b = std::make_unique<node>(
      pool_b, node_options{.name = "b", .transport = std::make_unique<counting_transport>(std::make_unique<loopback_transport>(network), at_b)});
  a.on_error([](const error&, const pid&) {});  // the frame that comes back, below
  REQUIRE(a.listen("a:0"));
  REQUIRE(b->listen("b:0"));
  const pid server = b->spawn([](context self) -> process {
    for (;;) {
      message m = co_await self.receive();
      if (m.is_request()) self.reply(m, 1);
    }
  });
  bool answered = false;
  a.spawn([&, server](context self) -> process { answered = static_cast<bool>(co_await self.request(server, 0, 10s)); });
  std::thread b_thread([&] { pool_b.run(); });
  pool_a.run();  // until the answer is in
  pool_b.stop();
  b_thread.join();
  REQUIRE(answered);
  const std::uint64_t b_incarnation = b->incarnation();
  INFO("a heard:\n" << at_a->dump() << "b heard:\n" << at_b->dump());
  CHECK(at_a->ups(b_incarnation) == 1);
  CHECK(at_b->ups(a.incarnation()) == 1);
  CHECK(at_b->about().at(0).given_back_before == 0);

  a.spawn([server](context self) -> process {
    self.send(server, 2);  // into b's inbox, where it stays: b's pool does not run
    co_return;
  });
  pool_a.run();
  b.reset();  // b shuts down: the frame goes back to a, then a hears b is down
  CHECK(at_a->downs(b_incarnation) == 0);  // told by a's own drain, on a's scheduler
  pool_a.run();
  INFO("a heard:\n" << at_a->dump());
  REQUIRE(at_a->downs(b_incarnation) == 1);
  const auto down = at_a->about(b_incarnation).back();
  CHECK(down.why == errc::stopped);
  CHECK(down.given_back_before == 1);  // the frame first
  CHECK(at_a->undeliverable.load() == 1);
}
