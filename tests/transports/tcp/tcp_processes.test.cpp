// Nodes in different OS processes: a tcp_test_peer child process (tcp_peer.cpp) hosts the server.
#include "tcp_support.hpp"

#include <catch2/catch.hpp>

#include <array>

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

namespace tcp_test {
/// Sent from the test's thread to a process of the client node: a fresh peer process listens there.
struct fresh_peer {
  std::string address;
};

/// How the kill test below sets up each transport, and by when the client must know.
template <class T>
struct killed_peer;
template <>
struct killed_peer<pooled> {
  // The peer beats as often as the client: a node waits at least 1.5 times the interval its peer announced.
  static std::vector<std::string> peer_args() { return {"pooled", "127.0.0.1:0", "100", "500"}; }
  static std::unique_ptr<transport> client() {
    return std::make_unique<tcp_pooled_transport>(tcp_pooled_options{.heartbeat_interval = 100ms, .peer_timeout = 500ms});
  }
  /// Its connection breaks, and no new one works within peer_timeout.
  static constexpr duration detection = 500ms;
};
template <>
struct killed_peer<per_message> {
  static std::vector<std::string> peer_args() { return {"per_message"}; }
  static std::unique_ptr<transport> client() { return per_message::make_fast_failing(); }
  /// No connection to watch: it is found gone at the next frame sent to it that fails, a refused connect
  /// (at once) or an ack that does not come (ack_timeout, 1 s). The stream sends all the time, except
  /// while it waits for a count, which the dead peer never gives (its 2 s timeout): at worst 3 s.
  static constexpr duration detection = 3s;
};
}  // namespace tcp_test

// Issue 11's failure semantics at the node level, for an OS process that dies without a word: SIGKILL, so
// its kernel closes its sockets and nothing says goodbye. The client's transport learns it (tcp_pooled:
// its connection breaks and no new one works within peer_timeout; tcp_per_message: the stream's next frame
// fails); then, on the client's node, every monitor of the server fires with noconnection and every
// request waiting for the server fails with node_down, long before the requests' own timeouts, and the
// stream to it ends in failures it is told of. The node goes on: a fresh peer process is reached as if
// nothing had happened.
//
// Times are measured on the client's node from the kill, against the detection time plus generous slack
// (sanitizer builds are slow, CI machines loaded): they say "detected by the failure detector, not by a
// timeout", never how fast.
TEMPLATE_TEST_CASE("tcp: a peer process killed with SIGKILL fires every monitor of its server with noconnection, "
                   "fails the requests pending there with node_down, and the node goes on serving",
                   "[tcp][process][failure_detection]", pooled, per_message) {
  using clock_type = std::chrono::steady_clock;
  const auto ms = [](clock_type::duration d) { return std::chrono::duration<double, std::milli>(d).count(); };
  const auto detected_within = killed_peer<TestType>::detection + 2s * slowdown;
  const std::vector<std::string> peer_args = killed_peer<TestType>::peer_args();
  peer_process peer(COACTOR_TCP_TEST_PEER, peer_args);
  const process_name name{peer.address(), "server"};
  test_node client("client", killed_peer<TestType>::client());
  client.listen();

  constexpr int monitors = 3, requests = 4;
  // Each slot is written by one process of the client's node, then published by `ended` (release); the
  // test reads a slot only once `ended` says it was written.
  struct watched {
    std::optional<down> seen;
    clock_type::time_point at;
  };
  struct asked {
    std::optional<error> failure;  ///< none: it was answered (the server never answers a hold)
    clock_type::time_point at;
  };
  std::array<watched, monitors> watches;
  std::array<asked, requests> asks;
  std::atomic<int> ready{0}, ended{0};
  pid server;  // written before the monitors and requests are spawned (on the node's one thread)
  std::optional<error> setup_failure;
  result<std::string> fresh_reply = error(errc::io);

  // The keeper: asks the server who it is, sets up the monitors and the pending requests, then waits for
  // the test to say where a fresh peer is, and asks it. It keeps the node running throughout.
  const pid keeper = client->spawn([&, name](context self) -> process {
    auto who = co_await self.request(name, coactor::make<ping>(0, "who are you", pid{}), 10s * slowdown);
    if (!who) {
      setup_failure = who.error();
      co_return;
    }
    server = who->sender();  // a reply's sender is the process that replied
    for (int i = 0; i < monitors; ++i) {
      self.spawn([&, i](context watcher) -> process {
        watcher.monitor(server);
        // The monitor went to the server's node ahead of this request, on the same connection: once the
        // reply is here, that node holds the monitor (it is not merely on its way).
        auto r = co_await watcher.request<std::string>(server, coactor::make<ping>(i, "monitoring", pid{}), 10s * slowdown);
        if (r) ready.fetch_add(1);
        auto d = co_await watcher.receive<down>(60s);
        watches[i].at = clock_type::now();
        if (d) watches[i].seen = **d;
        ended.fetch_add(1, std::memory_order_release);
      });
    }
    for (int i = 0; i < requests; ++i) {
      self.spawn([&, i, tell = self.pid()](context asker) -> process {
        auto r = co_await asker.request(server, coactor::make<hold>(tell), 60s);  // never answered by a live server
        asks[i].at = clock_type::now();
        if (!r) asks[i].failure = r.error();
        ended.fetch_add(1, std::memory_order_release);
      });
    }
    for (int holding = 0; holding < requests;) {  // the server says when it holds each of them
      auto h = co_await self.receive<held>(10s * slowdown);
      if (!h) co_return;
      holding = (*h)->count;
    }
    ready.fetch_add(requests);
    auto there = co_await self.receive<fresh_peer>(60s);
    if (!there) co_return;
    const process_name fresh{(*there)->address, "server"};
    fresh_reply = co_await self.request<std::string>(fresh, coactor::make<ping>(1, "after the kill", pid{}), 10s * slowdown);
    self.send(fresh, quit{});
  });
  stream_outcome streamed;
  stream_until_gone(client, name, streamed);
  client.start();

  const bool set_up = wait_until([&] { return ready.load() == monitors + requests && streamed.answered.load() >= 5; },
                                 20s * slowdown);
  INFO("ready: " << ready.load() << ", counts answered: " << streamed.answered.load() << "\n" << client.errors().dump());
  REQUIRE(set_up);
  const auto killed = clock_type::now();
  peer.kill();  // no shutdown: the kernel closes its sockets, and nothing says goodbye

  // Waited for a little longer than allowed, so that a late one says how late it was.
  wait_until([&] { return ended.load(std::memory_order_acquire) == monitors + requests; }, detected_within + 2s);
  REQUIRE(ended.load(std::memory_order_acquire) == monitors + requests);
  for (int i = 0; i < monitors; ++i) {
    const watched& w = watches[i];
    INFO("monitor " << i << ": " << ms(w.at - killed) << " ms after the kill");
    REQUIRE(w.seen);
    CHECK(w.seen->process == server);
    CHECK(w.seen->reason.kind == exit_kind::noconnection);
    CHECK(w.at - killed < detected_within);
  }
  for (int i = 0; i < requests; ++i) {
    const asked& a = asks[i];
    INFO("request " << i << ": " << ms(a.at - killed) << " ms after the kill, "
                    << (a.failure ? a.failure->message() : std::string("answered")));
    REQUIRE(a.failure);
    CHECK(*a.failure == errc::node_down);  // it was waiting for a node that went down (docs/faults.md)
    CHECK(a.at - killed < detected_within);  // and not its own 60 s timeout
  }

  // The node goes on: a fresh peer process is reached, and answers.
  peer_process fresh(COACTOR_TCP_TEST_PEER, peer_args);
  client->send(keeper, fresh_peer{fresh.address()});
  REQUIRE(client.wait(20s * slowdown));  // everything ended: the keeper, the monitors, the requests, the stream
  CHECK_FALSE(setup_failure);
  INFO((fresh_reply ? std::string("answered") : fresh_reply.error().message()));
  CHECK(fresh_reply.has_value());
  if (fresh_reply) CHECK(*fresh_reply == "pong:after the kill");
  CHECK(fresh.wait(10s * slowdown) == 0);  // it got the keeper's quit
  // The stream was told, in the end, that the node it streamed to cannot be reached.
  REQUIRE(streamed.last_failure);
  CHECK(*streamed.last_failure == errc::unreachable);
  // The counts balance: of what was sent to the killed node, each frame was delivered (acknowledged) or
  // given back, none is left in flight.
  if constexpr (std::is_same_v<TestType, pooled>) {
    std::optional<peer_stats> dead;
    for (const peer_stats& p : client->peers())
      if (p.peer.incarnation == server.incarnation()) dead = p;
    REQUIRE(dead);
    INFO("sent " << dead->sent << ", delivered " << dead->delivered << ", failed " << dead->failed);
    CHECK(dead->sent > 0);
    CHECK(dead->in_flight() == 0);
    CHECK(dead->sent == dead->delivered + dead->failed);
  }
}
