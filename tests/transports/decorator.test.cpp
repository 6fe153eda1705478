// A decorator transport (counting_transport.hpp) around each TCP transport counts exactly the frames
// that pass through it.
#include "counting_transport.hpp"
#include "tcp/tcp_support.hpp"

#include <catch2/catch.hpp>

using namespace tcp_test;

using transport_test::counting_transport;
using transport_test::frame_counts;

TEMPLATE_TEST_CASE("a decorator transport counts the frames of the transport it wraps", "[tcp][decorator]", pooled,
                   per_message) {
  auto at_server = std::make_shared<frame_counts>();
  auto at_client = std::make_shared<frame_counts>();
  test_node server("server", std::make_unique<counting_transport>(TestType::make(), at_server));
  server.listen();
  const process_name name = server.serve_here();
  test_node client("client", std::make_unique<counting_transport>(TestType::make(), at_client));
  client.listen();

  int answered = 0;
  std::optional<error> lost;
  client->spawn([&, name](context self) -> process {
    for (int i = 0; i < 10; ++i) {
      if (auto r = co_await self.request<std::string>(name, coactor::make<ping>(i, "counted", pid{}), 10s)) ++answered;
    }
    for (int i = 0; i < 5; ++i) self.send(name, seq{i});
    const process_name nowhere{closed_address(), "server"};
    auto r = co_await self.request(nowhere, 1, 10s);
    if (!r) lost = r.error();
    auto c = co_await self.request<count_reply>(name, count_query{}, 10s);  // all 5 seq have arrived
    if (c && c->received == 5) ++answered;
  });
  server.start();
  client.start();
  REQUIRE(client.wait(20s));
  server.stop();
  CHECK(answered == 11);
  REQUIRE(lost);
  CHECK(*lost == errc::unreachable);
  // client -> server: 10 pings, 5 seq, 1 count_query; 1 request to nowhere, which came back
  CHECK(at_client->sent.load() == 17);
  CHECK(at_client->undeliverable.load() == 1);
  CHECK(at_server->delivered.load() == 16);
  // server -> client: 11 replies
  CHECK(at_server->sent.load() == 11);
  CHECK(at_client->delivered.load() == 11);
  CHECK(at_server->undeliverable.load() == 0);
}
