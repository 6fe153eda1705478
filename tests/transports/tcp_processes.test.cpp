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
  client->spawn([&, name, n](context self) -> process {
    ping msg{1, "across processes", self.pid()};
    auto r = co_await self.request<std::string>(name, std::move(msg), 10s);
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
  std::atomic<int> answered{0};
  std::optional<error> last_failure;
  client->spawn([&, name](context self) -> process {
    for (std::int64_t i = 0; i < 1'000'000; ++i) {
      self.send(name, seq{i});
      if (i % 10 != 9) continue;
      auto r = co_await self.request<count_reply>(name, count_query{}, 2s);
      if (r) {
        answered.fetch_add(1);
        continue;
      }
      last_failure = r.error();
      if (r.error() != errc::unreachable) continue;
      // The node is gone, and we were told. One-way messages to it now are reported as lost.
      for (int k = 0; k < 3; ++k) self.send(name, seq{-1});
      co_return;
    }
  });
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
