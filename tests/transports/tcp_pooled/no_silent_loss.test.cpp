// tcp_pooled's sequenced streams (transports/tcp_pooled/tcp_pooled.cpp, docs/transports.md): while both
// nodes stay up, connections broken under a stream (break_connections, a reset as a failing network
// gives) lose nothing and duplicate nothing, and the per-peer counts balance on both sides.
#include "../tcp/tcp_support.hpp"

#include <catch2/catch.hpp>

using namespace tcp_test;

namespace sequenced_test {

/// What the receiving process saw of the numbered stream.
struct tally {
  std::atomic<std::int64_t> received{0};
  std::atomic<std::int64_t> duplicates{0};  // a number at or below the last one
  std::atomic<std::int64_t> gaps{0};        // a number more than one past the last one
};

/// Counts seq messages, checking each is the one after the last; answers count_query.
process count_in_order(context self, std::shared_ptr<tally> t) {
  std::int64_t last = -1;
  for (;;) {
    message m = co_await self.receive();
    if (auto* s = m.get_if<seq>()) {
      if (s->n <= last)
        t->duplicates.fetch_add(1);
      else if (s->n != last + 1)
        t->gaps.fetch_add(1);
      last = std::max(last, s->n);
      t->received.fetch_add(1, std::memory_order_relaxed);
    } else if (m.is<count_query>()) {
      self.reply(m, count_reply{t->received.load(), t->duplicates.load() == 0 && t->gaps.load() == 0});
    } else if (m.is<quit>()) {
      co_return;
    }
  }
}

/// The counts of `of` for the peer incarnation `peer` (all zero if it has none).
peer_stats stats_for(coactor::node& of, std::uint64_t peer) {
  for (const peer_stats& p : of.peers())
    if (p.peer.incarnation == peer) return p;
  return {};
}

std::string describe(const peer_stats& p) {
  return "sent " + std::to_string(p.sent) + ", delivered " + std::to_string(p.delivered) + ", failed " +
         std::to_string(p.failed) + ", received " + std::to_string(p.received) + ", duplicates " +
         std::to_string(p.duplicates);
}

}  // namespace sequenced_test

using namespace sequenced_test;

TEST_CASE("tcp_pooled: a million messages over connections broken ten times arrive exactly once and in order, "
          "and the counts balance",
          "[tcp][tcp_pooled][no_silent_loss]") {
  const std::int64_t n = 1'000'000 / slowdown;
  constexpr int breaks = 10;
  auto server_transport = std::make_unique<tcp_pooled_transport>();
  auto client_transport = std::make_unique<tcp_pooled_transport>();
  tcp_pooled_transport& server_side = *server_transport;
  tcp_pooled_transport& client_side = *client_transport;
  test_node server("server", std::move(server_transport));
  server.listen();
  auto t = std::make_shared<tally>();
  const pid counter = server->spawn([t](context self) { return count_in_order(self, t); });
  REQUIRE(server->register_name("counter", counter));
  const process_name name{server->address(), "counter"};
  test_node client("client", std::move(client_transport));
  client.listen();

  std::optional<count_reply> counted;
  std::atomic<bool> finished{false};
  client->spawn([&, name](context self) -> process {
    for (std::int64_t i = 0; i < n; ++i) {
      self.send(name, seq{i});
      if (i % 1024 == 1023) co_await self.yield_now();
    }
    auto r = co_await self.request<count_reply>(name, count_query{}, 120s);
    if (r) counted = *r;
    finished = true;
    static_cast<void>(co_await self.receive<quit>());  // the nodes run on while the counts are read
  });
  server.start();
  client.start();

  // Breaks spread over the stream, from either side, each once the counter has seen more of it.
  int broken = 0;
  for (int b = 1; b <= breaks; ++b) {
    const std::int64_t mark = n * b / (breaks + 1);
    if (!wait_until([&] { return t->received.load() >= mark; }, 60s)) break;
    broken += (b % 2 ? client_side : server_side).break_connections() > 0 ? 1 : 0;
  }
  REQUIRE(wait_until([&] { return finished.load(); }, 120s));
  INFO("server errors:\n" << server.errors().dump() << "client errors:\n" << client.errors().dump());
  CHECK(broken == breaks);  // every break found a connection to break
  REQUIRE(counted);
  CHECK(counted->received == n);
  CHECK(t->duplicates.load() == 0);
  CHECK(t->gaps.load() == 0);
  CHECK(counted->in_order);

  // The counts: everything sent was delivered, once; nothing failed. (The acknowledgement of the last
  // frames comes within the ack delay: the nodes still run.)
  const std::uint64_t to_server = server->incarnation(), to_client = client->incarnation();
  CHECK(wait_until([&] { return stats_for(client.node(), to_server).in_flight() == 0; }, 10s));
  CHECK(wait_until([&] { return stats_for(server.node(), to_client).in_flight() == 0; }, 10s));
  const peer_stats c = stats_for(client.node(), to_server);
  const peer_stats s = stats_for(server.node(), to_client);
  INFO("client's counts for the server: " << describe(c) << "\nserver's counts for the client: " << describe(s));
  CHECK(c.sent == static_cast<std::uint64_t>(n) + 1);  // the seq messages and the request
  CHECK(c.sent == c.delivered + c.failed);
  CHECK(c.failed == 0);
  CHECK(s.received == c.delivered);  // each once: what came again was dropped as a duplicate
  CHECK(s.sent == 1);                // the reply
  CHECK(s.sent == s.delivered + s.failed);
  CHECK(c.received == s.delivered);
  // Nothing reported, but a handshake the test broke: a connection being made again as one side reset it
  // (reported by that side as broken on purpose, by the other as a handshake that failed).
  auto unexpected = [](const error_log& log) {
    std::size_t count = 0;
    for (const auto& e : log.entries())
      if (e.detail.find("broken on purpose") == std::string::npos && e.detail.find("handshake from") == std::string::npos)
        ++count;
    return count;
  };
  CHECK(unexpected(server.errors()) == 0);
  CHECK(unexpected(client.errors()) == 0);
  client.stop();
  server.stop();
}
