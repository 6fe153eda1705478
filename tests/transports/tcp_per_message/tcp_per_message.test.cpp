// What only tcp_per_message does: no TIME_WAIT left behind, several frames in flight per peer, and no
// way back to a node that does not listen.
#include "tcp/tcp_support.hpp"

#include <catch2/catch.hpp>

using namespace tcp_test;

namespace {

std::optional<count_reply> send_and_count(test_node& client, const process_name& name, std::int64_t n, bool in_order) {
  std::optional<count_reply> counted;
  client->spawn([&, name, n](context self) -> process {
    for (std::int64_t i = 0; i < n; ++i) self.send(name, seq{in_order ? i : 0});
    // In order, the query arrives after every message. Out of order (several in flight), it may overtake
    // the last few: ask again until all are counted, or long enough to call the rest lost.
    for (int attempt = 0; attempt < 100; ++attempt) {
      auto r = co_await self.request<count_reply>(name, count_query{}, 60s);
      if (r) counted = *r;
      if (in_order || !r || r->received >= n) break;
      co_await self.sleep(50ms);
    }
  });
  client.start();
  if (!client.wait(60s)) return std::nullopt;
  return counted;
}

}  // namespace

TEST_CASE("tcp_per_message: thousands of connections leave no TIME_WAIT behind", "[tcp][tcp_per_message]") {
  test_node server("server", per_message::make());
  const std::string address = server.listen(counted_host);
  const process_name name = server.serve_here();
  test_node client("client", per_message::make());
  client.listen();
  server.start();
  const std::int64_t n = 3000 / slowdown;
  auto counted = send_and_count(client, name, n, true);
  const int lingering = time_wait_count(address);
  server.stop();
  REQUIRE(counted);
  CHECK(counted->received == n);
  CHECK(counted->in_order);
  // Every connection had the server's port at one end: none of them, on either side, is in TIME_WAIT.
  CHECK(lingering == 0);
}

TEST_CASE("tcp_per_message: several frames in flight per peer, none lost", "[tcp][tcp_per_message]") {
  tcp_per_message_options wide;
  wide.max_in_flight_per_peer = 4;
  test_node server("server", std::make_unique<tcp_per_message_transport>(wide));
  server.listen();
  const process_name name = server.serve_here();
  test_node client("client", std::make_unique<tcp_per_message_transport>(wide));
  client.listen();
  server.start();
  const std::int64_t n = 3000 / slowdown;
  auto counted = send_and_count(client, name, n, false);  // no order promised with 4 in flight
  server.stop();
  REQUIRE(counted);
  CHECK(counted->received == n);
  CHECK(server.errors().size() == 0);
  CHECK(client.errors().size() == 0);
}
