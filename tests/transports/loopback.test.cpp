#include <coactor/coactor.hpp>
#include <coactor/transports/loopback.hpp>

#include <catch2/catch.hpp>

#include <string>

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

TEST_CASE("loopback: request/reply and pid-in-message across two nodes on one thread pool", "[loopback]") {
  auto network = std::make_shared<loopback_network>();
  thread_pool pool(1);
  node a(pool, {.name = "a", .transport = std::make_unique<loopback_transport>(network)});
  node b(pool, {.name = "b", .transport = std::make_unique<loopback_transport>(network)});
  REQUIRE(a.listen("a:0"));
  REQUIRE(b.listen("b:0"));

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
    // Named first: see the g++ 12 note in context.hpp.
    process_name process1{b.address(), "process1"};
    ping hello{41, "hi", self.pid()};
    auto r = co_await self.request<std::string>(process1, std::move(hello), 5s);
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
  auto network = std::make_shared<loopback_network>();
  thread_pool pool(1);
  node a(pool, {.name = "a", .transport = std::make_unique<loopback_transport>(network)});
  node b(pool, {.name = "b", .transport = std::make_unique<loopback_transport>(network)});
  REQUIRE(a.listen("a:0"));
  REQUIRE(b.listen("b:0"));
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
