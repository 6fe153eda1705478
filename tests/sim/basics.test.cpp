#include <coactor/coactor.hpp>
#include <coactor/sim/cluster.hpp>

#include <catch2/catch.hpp>

#include <optional>
#include <string>
#include <vector>

using namespace coactor;
using namespace std::chrono_literals;

namespace sim_basics {

process echo(context self) {
  for (;;) {
    message m = co_await self.receive();
    self.reply(m, std::string("Message Received!"));
  }
}

// Node "a" with "process1" (echo); nodes "b" and "c" with three processes each, making `requests`
// requests to it one after the other (50 ms timeout each).
void add_echo_and_requesters(sim::cluster& c, int requests) {
  c.add_node("a", [](node& n) { REQUIRE(n.register_name("process1", n.spawn(echo))); });
  for (const char* name : {"b", "c"}) {
    c.add_node(name, [requests](node& n) {
      for (int k = 0; k < 3; ++k)
        n.spawn([requests](context self) -> process {
          process_name target{"a", "process1"};
          for (int i = 0; i < requests; ++i) static_cast<void>(co_await self.request(target, i, 50ms));
        });
    });
  }
}

}  // namespace sim_basics

TEST_CASE("sim: request across nodes on virtual time", "[sim]") {
  sim::cluster c(7);
  c.add_node("a", [](node& n) { REQUIRE(n.register_name("process1", n.spawn(sim_basics::echo))); });
  std::string got;
  time_point answered{};
  c.add_node("b", [&](node& n) {
    n.spawn([&](context self) -> process {
      process_name target{"a", "process1"};
      auto r = co_await self.request<std::string>(target, std::string("test-message"), 30s);
      REQUIRE(r);
      got = *r;
      answered = c.now();
    });
  });
  CHECK(c.run_until_idle());
  CHECK(got == "Message Received!");
  CHECK(answered.time_since_epoch() == 2ms);  // two hops of the default 1 ms latency
}

TEST_CASE("sim: a partition makes a request time out on virtual time, healing lets the next succeed", "[sim]") {
  sim::cluster c(11);
  c.add_node("a", [](node& n) { REQUIRE(n.register_name("process1", n.spawn(sim_basics::echo))); });
  std::vector<std::string> outcomes;
  c.add_node("b", [&](node& n) {
    n.spawn([&](context self) -> process {
      process_name target{"a", "process1"};
      for (int i = 0; i < 2; ++i) {
        auto r = co_await self.request<std::string>(target, std::string("ping"), 30s);
        outcomes.push_back(r ? *r : r.error().message());
        co_await self.sleep(1min);
      }
    });
  });
  c.partition("a", "b");
  c.run_for(45s);
  c.heal("a", "b");
  c.run_until_idle();
  REQUIRE(outcomes.size() == 2);
  CHECK(outcomes[0].rfind("timeout", 0) == 0);
  CHECK(outcomes[1] == "Message Received!");
}

TEST_CASE("sim: a crashed node's pids are dead after restart, a new incarnation serves the name", "[sim]") {
  sim::cluster c(3);
  pid old_server;
  c.add_node("a", [&](node& n) {
    old_server = n.spawn(sim_basics::echo);
    REQUIRE(n.register_name("process1", old_server));
  });
  c.run_until_idle();
  const pid first = old_server;
  c.crash("a");
  c.restart("a");
  CHECK(old_server != first);
  std::optional<error> to_old;
  std::string by_name;
  c.add_node("b", [&](node& n) {
    n.spawn([&](context self) -> process {
      auto r1 = co_await self.request(first, std::string("hi"), 30s);
      if (!r1) to_old = r1.error();
      process_name target{"a", "process1"};
      auto r2 = co_await self.request<std::string>(target, std::string("hi"), 30s);
      if (r2) by_name = *r2;
    });
  });
  c.run_until_idle();
  REQUIRE(to_old);
  CHECK(*to_old == errc::dead_process);
  CHECK(by_name == "Message Received!");
}

TEST_CASE("sim: the same seed replays the same trace, another seed differs", "[sim][determinism]") {
  auto run = [](std::uint64_t seed) {
    sim::cluster c(seed, {.link = {.latency_min = 1ms, .latency_max = 20ms, .drop = 0.1}});
    sim_basics::add_echo_and_requesters(c, 10);
    c.run_until_idle();
    return c.trace_hash();
  };
  for (std::uint64_t seed : sim::seeds(5)) {
    INFO("seed " << seed);
    CHECK(run(seed) == run(seed));
    CHECK(run(seed) != run(seed + 1000));
  }
}

TEST_CASE("sim: a hash-only trace replays too, and the run is the one a kept trace records", "[sim][determinism]") {
  struct outcome {
    std::uint64_t hash;
    std::size_t events;
    time_point end;
    std::uint64_t steps;
  };
  auto run = [](std::uint64_t seed, bool keep) {
    sim::cluster c(seed, {.link = {.latency_min = 1ms, .latency_max = 20ms, .drop = 0.05, .duplicate = 0.1},
                          .keep_trace = keep});
    sim_basics::add_echo_and_requesters(c, 20);
    c.scheduler().at(30ms, [&] { c.partition("a", "b"); });  // cuts frames in flight too
    c.scheduler().at(90ms, [&] { c.heal("a", "b"); });
    c.scheduler().at(150ms, [&] { c.crash("a"); });          // frames to it are refused meanwhile
    c.scheduler().at(200ms, [&] { c.restart("a"); });
    REQUIRE(c.run_until_idle());
    return outcome{c.trace_hash(), c.trace().size(), c.now(), c.scheduler().steps()};
  };
  for (std::uint64_t seed : sim::seeds(5)) {
    INFO("seed " << seed);
    const outcome quick = run(seed, false);
    const outcome again = run(seed, false);
    const outcome kept = run(seed, true);
    CHECK(quick.hash == again.hash);
    CHECK(quick.hash != run(seed + 1000, false).hash);
    CHECK(quick.events == kept.events);
    CHECK(quick.end == kept.end);
    CHECK(quick.steps == kept.steps);
  }
}

TEST_CASE("sim: a duplicated frame arrives twice, each copy in order on its link", "[sim]") {
  sim::cluster c(3, {.link = {.latency_min = 1ms, .latency_max = 5ms, .duplicate = 1.0}});
  std::vector<int> got;
  pid receiver;
  c.add_node("a", [&](node& n) {
    receiver = n.spawn([&](context self) -> process {
      for (;;) got.push_back(*co_await self.receive<int>());
    });
  });
  c.add_node("b", [&](node& n) {
    n.spawn([&](context self) -> process {
      for (int i = 0; i < 3; ++i) self.send(receiver, i);
      co_return;
    });
  });
  c.run_until_idle();
  CHECK(got == std::vector<int>{0, 0, 1, 1, 2, 2});
}

TEST_CASE("sim: events due at the same time run in the order they were scheduled, in either form", "[sim]") {
  sim::scheduler s(1);
  std::string order;
  auto append = [](void* text) { static_cast<std::string*>(text)->push_back('p'); };
  s.at(1ms, [&] { order += 'f'; });
  s.at(1ms, append, &order);
  s.at(0ms, [&] { order += '0'; });
  s.at(1ms, [&] { order += 'g'; });
  s.at(1ms, append, &order);
  CHECK(s.run_until(time_point{} + 1s));
  CHECK(order == "0fpgp");
  s.at(1ms, [&] { order += 'h'; });  // a freed callback is used again
  CHECK(s.run_until(time_point{} + 2s));
  CHECK(order == "0fpgph");
}

TEST_CASE("sim: an error reply crosses nodes as the requester's error, and self.now() is virtual time", "[sim][reply_error]") {
  sim::cluster c(5);
  c.add_node("a", [](node& n) {
    REQUIRE(n.register_name("strict", n.spawn([](context self) -> process {
      for (;;) {
        message m = co_await self.receive();
        self.reply(m, error(errc::rejected, "not today"));
      }
    })));
  });
  std::optional<error> got;
  time_point asked{}, answered{};
  c.add_node("b", [&](node& n) {
    n.spawn([&](context self) -> process {
      asked = self.now();
      auto r = co_await self.request<std::string>(process_name{"a", "strict"}, 1, 30s);
      answered = self.now();
      if (!r) got = r.error();
    });
  });
  CHECK(c.run_until_idle());
  REQUIRE(got);
  CHECK(*got == errc::rejected);
  CHECK(got->detail() == "not today");
  CHECK(asked.time_since_epoch() == 0ms);
  CHECK(answered - asked == 2ms);  // two hops of the default 1 ms latency, on the simulator's clock
}
