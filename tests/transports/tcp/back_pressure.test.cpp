// The TCP transports' bounded queue per peer (max_queued_frames, max_queued_bytes of their options) and the
// three ways a sender meets it (docs/faults.md, "Back-pressure"): try_send fails with errc::queue_full,
// send is given back and reported, send_when_room waits until there is room, in order.
#include "tcp_support.hpp"

#include <catch2/catch.hpp>

using namespace tcp_test;

namespace back_pressure_test {

struct item {
  int n = 0;
};

/// Counts the items it gets, in order; answers a count_query with the count.
process count_items(context self) {
  std::int64_t received = 0;
  int last = -1;
  bool in_order = true;
  for (;;) {
    message m = co_await self.receive();
    if (auto* i = m.get_if<item>()) {
      if (i->n <= last) in_order = false;
      last = i->n;
      ++received;
    } else if (m.is<count_query>()) {
      self.reply(m, count_reply{received, in_order});
    }
  }
}

/// The transport under test, with a queue of `bound` frames per peer.
template <class T>
std::unique_ptr<transport> bounded(std::size_t bound) {
  if constexpr (std::is_same_v<T, pooled>)
    return std::make_unique<tcp_pooled_transport>(tcp_pooled_options{.max_queued_frames = bound});
  else
    return std::make_unique<tcp_per_message_transport>(tcp_per_message_options{.max_queued_frames = bound});
}

}  // namespace back_pressure_test

using namespace back_pressure_test;

TEMPLATE_TEST_CASE("tcp: the queue per peer is bounded: try_send fails, send is reported, send_when_room waits",
                   "[tcp][back_pressure]", pooled, per_message) {
  constexpr int bound = 100;
  test_node server("server", TestType::make());
  server.listen();
  const pid counter_here = server->spawn(count_items);
  // Its pid as the client's node knows it (with the server's address).
  const pid counter = *pid::parse(counter_here.to_string(server->address().to_string()));
  test_node client("client", bounded<TestType>(bound));
  client.listen();  // (a per-message server answers only nodes that listen)

  struct seen {
    int accepted = 0;
    std::optional<error> refused;       // the try_send past the bound
    std::optional<error> impatient;     // a send_when_room that gives up
    std::optional<error> patient;       // one that waits for room
    std::optional<count_reply> counted;
  };
  auto s = std::make_shared<seen>();
  std::atomic<int> step{0};
  client->spawn([s, counter, &step](context self) -> process {
    // The server's node does not run yet: nothing is acknowledged, the queue fills.
    for (int i = 0; i < bound; ++i)
      if (self.try_send(counter, item{i})) ++s->accepted;
    if (auto r = self.try_send(counter, item{-1}); !r) s->refused = r.error();
    self.send(counter, item{-2});  // given back: reported on this node
    if (auto r = co_await self.send_when_room(counter, item{-3}, 50ms); !r) s->impatient = r.error();
    step = 1;
    auto r = co_await self.send_when_room(counter, item{bound}, 60s);  // room once the server runs
    s->patient = r ? error(std::error_code{}) : r.error();
    auto c = co_await self.request<count_reply>(counter, count_query{}, 60s);
    if (c) s->counted = *c;
    step = 2;
    static_cast<void>(co_await self.receive<quit>());
  });
  client.start();
  REQUIRE(wait_until([&] { return step.load() == 1; }, 30s));
  std::this_thread::sleep_for(100ms);  // the patient sender parks
  server.start();
  REQUIRE(wait_until([&] { return step.load() == 2; }, 60s));

  INFO("client errors:\n" << client.errors().dump());
  CHECK(s->accepted == bound);
  REQUIRE(s->refused);
  CHECK(*s->refused == errc::queue_full);
  REQUIRE(s->impatient);
  CHECK(*s->impatient == errc::queue_full);
  REQUIRE(s->patient);
  CHECK_FALSE(s->patient->code());  // sent once there was room
  REQUIRE(s->counted);
  CHECK(s->counted->received == bound + 1);  // the accepted ones and the patient one; no other
  CHECK(s->counted->in_order);
  CHECK(client.errors().count(errc::queue_full) == 1);  // the plain send, dropped and reported
  if constexpr (std::is_same_v<TestType, pooled>) {  // the counts: what was refused counts as sent and failed
    std::optional<peer_stats> to_server;
    for (const peer_stats& p : client->peers())
      if (p.peer.incarnation == server->incarnation()) to_server = p;
    REQUIRE(to_server);
    CHECK(to_server->failed == 1);
  }
  client.stop();
  server.stop();
}
