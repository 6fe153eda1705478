#include <coactor/coactor.hpp>
#include <coactor/transports/loopback.hpp>

#include <catch2/catch.hpp>

#include <optional>
#include <string>
#include <thread>

using namespace coactor;
using namespace std::chrono_literals;

namespace loopback_test {
struct ping {
  int n;
  std::string text;
  pid reply_to;
};
struct pong {
  int n;
};
}  // namespace loopback_test

using namespace loopback_test;

namespace {

/// Nodes "a" and "b" on one loopback network, both on one single-threaded pool, both listening.
struct two_nodes {
  std::shared_ptr<loopback_network> network = std::make_shared<loopback_network>();
  thread_pool pool{1};
  node a{pool, {.name = "a", .transport = std::make_unique<loopback_transport>(network)}};
  node b{pool, {.name = "b", .transport = std::make_unique<loopback_transport>(network)}};
  two_nodes() {
    REQUIRE(a.listen("a:0"));
    REQUIRE(b.listen("b:0"));
  }
};

}  // namespace

TEST_CASE("loopback: request/reply and pid-in-message across two nodes on one thread pool", "[loopback]") {
  two_nodes nodes;
  node &a = nodes.a, &b = nodes.b;
  thread_pool& pool = nodes.pool;

  pid server = b.spawn([](context self) -> process {
    for (;;) {
      message m = co_await self.receive();
      if (auto* p = m.get_if<ping>()) {
        self.send(p->reply_to, pong{p->n + 1});  // the pid inside the message routes back to node a
        self.reply(m, std::string("Message Received!"));
      } else {
        co_return;
      }
    }
  });
  REQUIRE(b.register_name("process1", server));

  std::string reply_text;
  int pong_n = 0;
  a.spawn([&](context self) -> process {
    auto r = co_await self.request<std::string>(process_name{b.address(), "process1"},
                                                coactor::make<ping>(41, "hi", self.pid()), 5s);
    REQUIRE(r);
    reply_text = *r;
    auto p = co_await self.receive<pong>(5s);
    REQUIRE(p);
    pong_n = (*p)->n;
    self.send(server, 0);  // ends the server (an i32 it does not match)
  });
  pool.run();
  CHECK(reply_text == "Message Received!");
  CHECK(pong_n == 42);
}

TEST_CASE("loopback: unknown name and dead pid fail requests at once", "[loopback]") {
  two_nodes nodes;
  node &a = nodes.a, &b = nodes.b;
  thread_pool& pool = nodes.pool;
  pid gone = b.spawn([](context) -> process { co_return; });
  std::optional<error> by_name, by_pid, unreachable;
  a.spawn([&](context self) -> process {
    process_name nobody{b.address(), "nobody"}, nowhere{"nowhere:1", "x"};
    auto r1 = co_await self.request(nobody, 1, 10s);
    if (!r1) by_name = r1.error();
    auto r2 = co_await self.request(gone, 1, 10s);
    if (!r2) by_pid = r2.error();
    auto r3 = co_await self.request(nowhere, 1, 10s);
    if (!r3) unreachable = r3.error();
  });
  auto start = std::chrono::steady_clock::now();
  pool.run();
  CHECK(std::chrono::steady_clock::now() - start < 5s);
  REQUIRE(by_name);
  CHECK(*by_name == errc::no_such_name);
  REQUIRE(by_pid);
  CHECK(*by_pid == errc::dead_process);
  REQUIRE(unreachable);
  CHECK(*unreachable == errc::unreachable);
}

TEST_CASE("loopback: an error reply is the requester's error", "[loopback][reply_error]") {
  two_nodes nodes;
  node &a = nodes.a, &b = nodes.b;
  thread_pool& pool = nodes.pool;
  REQUIRE(b.register_name("strict", b.spawn([](context self) -> process {
    message m = co_await self.receive();
    self.reply(m, error(errc::bad_message, "expected a ping"));
  })));
  std::optional<error> got;
  a.spawn([&](context self) -> process {
    auto r = co_await self.request(process_name{b.address(), "strict"}, 1, 10s);
    if (!r) got = r.error();
  });
  pool.run();
  REQUIRE(got);
  CHECK(*got == errc::bad_message);  // a code of coactor::errc travels as it is
  CHECK(got->detail() == "expected a ping");
}

namespace loopback_test {
struct numbered {
  int sender;
  int n;
};
}  // namespace loopback_test

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
