// Nodes in different OS processes: a tcp_test_peer child process (tcp_peer.cpp) hosts the server.
#include "tcp_support.hpp"

#include <catch2/catch.hpp>

using namespace tcp_test;

#ifndef COACTOR_TCP_TEST_PEER
#error "COACTOR_TCP_TEST_PEER (the path of tcp_test_peer) is set by tests/CMakeLists.txt"
#endif

TEMPLATE_TEST_CASE("tcp: nodes in two OS processes", "[tcp][process]", pooled, per_message) {
  peer_process peer(COACTOR_TCP_TEST_PEER, TestType::peer_arg);
  const process_name name{peer.address(), "server"};
  test_node client("client", TestType::make());
  client.listen();
  const std::int64_t n = (std::is_same_v<TestType, pooled> ? 20'000 : 2'000) / slowdown;

  std::string reply;
  int pong_n = 0;
  std::optional<count_reply> counted;
  client->spawn([&, name](context self) -> process {
    auto r = co_await self.request<std::string>(name, coactor::make<ping>(1, "across processes", self.pid()), 10s);
    if (r) reply = *r;
    auto p = co_await self.receive<pong>(10s);
    if (p) pong_n = (*p)->n;
    for (std::int64_t i = 0; i < n; ++i) self.send(name, seq{i});
    auto c = co_await self.request<count_reply>(name, count_query{}, 60s);
    if (c) counted = *c;
    self.send(name, quit{});  // the peer process exits when its server ends
  });
  client.start();
  REQUIRE(client.wait(60s));
  CHECK(peer.wait(10s) == 0);
  CHECK(reply == "pong:across processes");
  CHECK(pong_n == 2);
  REQUIRE(counted);
  CHECK(counted->received == n);
  CHECK(counted->in_order);
  INFO(client.errors().dump());
  CHECK(client.errors().size() == 0);
}

TEMPLATE_TEST_CASE("tcp: the peer process is killed mid-stream: failures are reported, nothing hangs", "[tcp][process]",
                   pooled, per_message) {
  peer_process peer(COACTOR_TCP_TEST_PEER, TestType::peer_arg);
  const process_name name{peer.address(), "server"};
  test_node client("client", TestType::make_fast_failing());
  client.listen();
  stream_outcome streamed;
  std::atomic<int>& answered = streamed.answered;
  std::optional<error>& last_failure = streamed.last_failure;
  stream_until_gone(client, name, streamed);
  client.start();
  const auto start = std::chrono::steady_clock::now();
  while (answered.load() < 5 && std::chrono::steady_clock::now() - start < 10s) std::this_thread::sleep_for(10ms);
  CHECK(answered.load() >= 5);
  peer.kill();  // no shutdown: the kernel closes its sockets
  REQUIRE(client.wait(20s));
  REQUIRE(last_failure);
  CHECK(*last_failure == errc::unreachable);
  CHECK(client.errors().count(errc::unreachable) >= 3);  // the one-way messages sent after that
}

TEMPLATE_TEST_CASE("tcp: three OS processes: a pid forwarded through a second node is replied to by a third", "[tcp][process]",
                   pooled, per_message) {
  peer_process a(COACTOR_TCP_TEST_PEER, TestType::peer_arg);
  peer_process b(COACTOR_TCP_TEST_PEER, TestType::peer_arg);
  const process_name on_a{a.address(), "server"}, on_b{b.address(), "server"}, nobody{a.address(), "nobody"};
  test_node client("client", TestType::make());
  client.listen();
  int pong_n = 0;
  std::optional<error> unknown_name, dead;
  client->spawn([&, on_a, on_b, nobody](context self) -> process {
    // a passes the ping on to b; b answers the pid inside it, which points back into this process.
    forward_ping hop{on_b, ping{41, "via a", self.pid()}};
    self.send(on_a, std::move(hop));
    auto p = co_await self.receive<pong>(10s);
    if (p) pong_n = (*p)->n;
    auto r = co_await self.request(nobody, seq{1}, 10s);  // a name nobody holds on a
    if (!r) unknown_name = r.error();
    auto gone = co_await self.request<pid>(on_b, dead_pid_query{}, 10s);  // a pid of b that has ended
    if (gone) {
      auto d = co_await self.request(*gone, seq{2}, 10s);
      if (!d) dead = d.error();
    }
    self.send(on_a, quit{});
    self.send(on_b, quit{});
  });
  client.start();
  REQUIRE(client.wait(60s));
  CHECK(a.wait(10s) == 0);
  CHECK(b.wait(10s) == 0);
  CHECK(pong_n == 42);
  REQUIRE(unknown_name);
  CHECK(*unknown_name == errc::no_such_name);
  REQUIRE(dead);
  CHECK(*dead == errc::dead_process);
}

// The counts: 1,000,000 messages through tcp_pooled and 200,000 through tcp_per_message to
// another OS process, every one counted. Per-message opens (and resets) a connection for each; with
// sixteen in flight it also shows that nothing is left in TIME_WAIT to exhaust the ephemeral ports.
TEMPLATE_TEST_CASE("tcp: a million pooled and 200,000 per-message messages to another OS process all arrive",
                   "[tcp][process][count]", pooled, per_message) {
  constexpr bool is_pooled = std::is_same_v<TestType, pooled>;
  peer_process peer(COACTOR_TCP_TEST_PEER, TestType::peer_arg);
  const process_name name{peer.address(), "server"};
  std::unique_ptr<transport> t;
  if constexpr (is_pooled) {
    t = TestType::make();
  } else {
    tcp_per_message_options o;
    o.max_in_flight_per_peer = 16;
    t = std::make_unique<tcp_per_message_transport>(o);
  }
  test_node client("client", std::move(t));
  client.listen();
  const std::int64_t n = (is_pooled ? 1'000'000 : 200'000) / slowdown;
  std::optional<count_reply> counted;
  std::optional<error> failed;
  client->spawn([&, name](context self) -> process {
    for (std::int64_t i = 0; i < n; ++i) {
      self.send(name, seq{i});
      if (i % 4096 == 4095) co_await self.yield_now();  // let the writes go out as we go
    }
    // The query waits behind the frames still queued for the peer; per-message frames may also arrive
    // out of order with several in flight: ask until all are counted.
    for (int attempt = 0; attempt < 600; ++attempt) {
      auto c = co_await self.request<count_reply>(name, count_query{}, 300s);
      if (c) counted = *c;
      if (!c) failed = c.error();
      if (!c || c->received >= n) break;
      co_await self.sleep(100ms);
    }
    self.send(name, quit{});
  });
  client.start();
  REQUIRE(client.wait(600s));
  CHECK(peer.wait(20s) == 0);
  INFO(client.errors().dump());
  INFO((failed ? failed->message() : std::string("no failure")));
  REQUIRE(counted);
  CHECK(counted->received == n);
  if (is_pooled) CHECK(counted->in_order);
  CHECK(client.errors().size() == 0);
  // Per-message resets every connection it opens, so none lingers in TIME_WAIT. Pooled has one
  // connection each way; whichever side closes one first (the exiting peer, often) may hold it in
  // TIME_WAIT, as TCP requires: at most those two.
  if (is_pooled)
    CHECK(time_wait_count(peer.address()) <= 2);
  else
    CHECK(time_wait_count(peer.address()) == 0);
}
