// What only tcp_pooled does: replies over the connection a peer opened, idle close and reconnect, batches,
// and nodes with several worker threads.
#include "tcp/tcp_support.hpp"

#include <catch2/catch.hpp>

using namespace tcp_test;

TEST_CASE("tcp_pooled: an idle connection is closed, and the next frame opens a new one", "[tcp][tcp_pooled]") {
  tcp_pooled_options quick;
  quick.idle_timeout = 300ms;
  test_node server("server", std::make_unique<tcp_pooled_transport>(quick));
  const std::string address = server.listen(counted_host);
  const process_name name = server.serve_here();
  test_node client("client", std::make_unique<tcp_pooled_transport>(quick));
  client.listen();

  std::vector<std::string> replies;
  int open_while_busy = -1, open_after_idle = -1;
  client->spawn([&, name, address](context self) -> process {
    for (int round = 0; round < 3; ++round) {
      auto r = co_await self.request<std::string>(name, coactor::make<ping>(round, "round " + std::to_string(round), pid{}), 10s);
      replies.push_back(r ? *r : "failed: " + r.error().message());
      if (round == 0) open_while_busy = established_count(address);
      co_await self.sleep(1200ms);  // idle: both sides close the connection
      if (round == 0) open_after_idle = established_count(address);
    }
  });
  server.start();
  client.start();
  REQUIRE(client.wait(20s));
  server.stop();
  CHECK(replies == std::vector<std::string>{"pong:round 0", "pong:round 1", "pong:round 2"});
  CHECK(open_while_busy == 2);  // one connection (both of its ends are on this machine)
  CHECK(open_after_idle == 0);
  INFO(server.errors().dump() << client.errors().dump());
  CHECK(server.errors().size() == 0);
  CHECK(client.errors().size() == 0);
}

TEST_CASE("tcp_pooled: small batches keep every frame, in order", "[tcp][tcp_pooled]") {
  tcp_pooled_options small;
  small.max_batch_bytes = 100;  // a few frames per write
  test_node server("server", std::make_unique<tcp_pooled_transport>(small));
  server.listen();
  const process_name name = server.serve_here();
  test_node client("client", std::make_unique<tcp_pooled_transport>(small));
  client.listen();
  const std::int64_t n = 20'000 / slowdown;
  std::optional<count_reply> counted;
  client->spawn([&, name](context self) -> process {
    for (std::int64_t i = 0; i < n; ++i) self.send(name, seq{i});
    auto r = co_await self.request<count_reply>(name, count_query{}, 30s);
    if (r) counted = *r;
  });
  server.start();
  client.start();
  REQUIRE(client.wait(40s));
  server.stop();
  REQUIRE(counted);
  CHECK(counted->received == n);
  CHECK(counted->in_order);
}

TEST_CASE("tcp_pooled: nodes with two worker threads, many processes at once", "[tcp][tcp_pooled][threads]") {
  // Not test_node: these nodes run two workers, so handlers, sends and deliveries happen in parallel.
  node server({.name = "server", .threads = 2, .transport = pooled::make()});
  REQUIRE(server.listen("127.0.0.1:0"));
  pid s = server.spawn(serve);
  REQUIRE(server.register_name("server", s));
  const process_name name{server.address(), "server"};
  node client({.name = "client", .threads = 2, .transport = pooled::make()});
  REQUIRE(client.listen("127.0.0.1:0"));

  constexpr int clients = 6;
  const int rounds = 300 / slowdown;
  std::atomic<int> replies{0}, pongs{0}, failures{0};
  for (int c = 0; c < clients; ++c) {
    client.spawn([&, name, c](context self) -> process {
      for (int i = 0; i < rounds; ++i) {
        auto r = co_await self.request<std::string>(name, coactor::make<ping>(i, "client " + std::to_string(c), self.pid()), 10s);
        if (r && *r == "pong:client " + std::to_string(c))
          replies.fetch_add(1);
        else
          failures.fetch_add(1);
        auto p = co_await self.receive<pong>(10s);
        if (p && (*p)->n == i + 1) pongs.fetch_add(1);
      }
    });
  }
  std::thread server_thread([&] { server.run(); });
  client.run();  // until every client process has ended
  server.stop();
  server_thread.join();
  CHECK(failures.load() == 0);
  CHECK(replies.load() == clients * rounds);
  CHECK(pongs.load() == clients * rounds);
}
