// Failure detection in the simulator (sim/network.hpp): peers reported up at the first contact, down
// peer_timeout after a crash or a lasting partition, at once on a restart, in virtual time, and the same
// for a seed every time. The trace records each peer_up and peer_down (from_node: the peer, to_node: the
// node told). (The clock stands still while nothing is due: run_for() on an idle cluster does not move
// it, so the times below count from the last thing that happened.)
#include <coactor/coactor.hpp>
#include <coactor/sim/cluster.hpp>

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using namespace coactor;
using namespace std::chrono_literals;

namespace sim_failures {

/// Node `name` serves "server" (answering every request with its own pid) and asks "server" on `to`
/// once, right away (and again at every restart).
void add_asker(sim::cluster& c, const std::string& name, const std::string& to) {
  c.add_node(name, [to](node& n) {
    REQUIRE(n.register_name("server", n.spawn([](context self) -> process {
      while (true) self.reply(co_await self.receive(), self.pid());
    })));
    n.spawn([to](context self) -> process {
      static_cast<void>(co_await self.request<pid>(process_name{to, "server"}, std::string("hello"), 1s));
    });
  });
}

/// Nodes "a" and "b", each asking the other, run until they have met (at 1 ms; idle from 2 ms).
void add_pair(sim::cluster& c) {
  add_asker(c, "a", "b");
  add_asker(c, "b", "a");
  c.run_for(100ms);
}

/// Has `observer` been told something about `peer`: the peer events, as "up 2ms" / "down 3002ms (...)".
std::vector<std::string> told(const sim::cluster& c, const std::string& observer, const std::string& peer) {
  std::vector<std::string> out;
  for (const sim::trace_event& e : c.trace().events()) {
    if ((e.kind != sim::event_kind::peer_up && e.kind != sim::event_kind::peer_down) || e.to_node != observer ||
        e.from_node != peer)
      continue;
    const auto at = std::chrono::duration_cast<std::chrono::milliseconds>(e.at.time_since_epoch()).count();
    out.push_back(std::string(e.kind == sim::event_kind::peer_up ? "up " : "down ") + std::to_string(at) + "ms");
  }
  return out;
}

std::string last_detail(const sim::cluster& c, sim::event_kind kind) {
  std::string detail;
  for (const sim::trace_event& e : c.trace().events())
    if (e.kind == kind) detail = e.detail;
  return detail;
}

}  // namespace sim_failures

using namespace sim_failures;

TEST_CASE("sim: peers are up at the first contact, and a crashed node is down at its peers peer_timeout later",
          "[sim][failure_detection]") {
  sim::cluster c(3);
  add_pair(c);
  // Each hears of the other when the other's request arrives (1 ms of latency), before it is delivered.
  CHECK(told(c, "a", "b") == std::vector<std::string>{"up 1ms"});
  CHECK(told(c, "b", "a") == std::vector<std::string>{"up 1ms"});
  c.crash("b");  // at 2 ms, when the replies were in
  c.run_for(10s);
  CHECK(told(c, "a", "b") == std::vector<std::string>{"up 1ms", "down 3002ms"});
  CHECK(last_detail(c, sim::event_kind::peer_down).find("is gone") != std::string::npos);
}

TEST_CASE("sim: a partition longer than peer_timeout reports each side down at the other, the next contact after the "
          "heal up again",
          "[sim][failure_detection]") {
  sim::cluster c(4, {.link = {}, .peer_timeout = 500ms});
  add_pair(c);
  c.partition("a", "b");  // at 2 ms, shorter than the timeout: nothing is said
  c.run_for(400ms);
  c.heal("a", "b");  // at 402 ms
  c.run_for(1s);     // to 502 ms, when the cut's check found it healed
  CHECK(told(c, "a", "b") == std::vector<std::string>{"up 1ms"});
  c.partition("a", "b");  // at 502 ms, for longer
  c.run_for(2s);
  CHECK(told(c, "a", "b") == std::vector<std::string>{"up 1ms", "down 1002ms"});
  CHECK(told(c, "b", "a") == std::vector<std::string>{"up 1ms", "down 1002ms"});
  c.heal("a", "b");  // at 1002 ms: nothing until someone writes
  c.run_for(1s);
  CHECK(told(c, "a", "b").size() == 2);
  c["a"].spawn([](context self) -> process {
    static_cast<void>(co_await self.request<pid>(process_name{"b", "server"}, std::string("again"), 1s));
  });
  c.run_for(1s);
  // The request reaches b: b hears from a, and a learns b is there (the way back works too).
  CHECK(told(c, "a", "b") == std::vector<std::string>{"up 1ms", "down 1002ms", "up 1003ms"});
  CHECK(told(c, "b", "a") == std::vector<std::string>{"up 1ms", "down 1002ms", "up 1003ms"});
}

TEST_CASE("sim: a one-way cut is noticed by the side that hears nothing", "[sim][failure_detection]") {
  sim::cluster c(5, {.link = {}, .peer_timeout = 1s});
  add_pair(c);
  c.partition_one_way("a", "b");  // at 2 ms: b hears nothing from a; a still hears b
  c.run_for(3s);
  CHECK(told(c, "b", "a") == std::vector<std::string>{"up 1ms", "down 1002ms"});
  CHECK(told(c, "a", "b") == std::vector<std::string>{"up 1ms"});
}

TEST_CASE("sim: a node restarted at its address is reported down, then its new incarnation up, at the next contact",
          "[sim][failure_detection]") {
  sim::cluster c(6);
  add_pair(c);
  c.restart("b");  // at 2 ms: its new incarnation asks a again, long before the old one's time is up
  c.run_for(10s);
  CHECK(told(c, "a", "b") == std::vector<std::string>{"up 1ms", "down 3ms", "up 3ms"});
  bool restarted = false;
  for (const sim::trace_event& e : c.trace().events())
    if (e.kind == sim::event_kind::peer_down && e.detail.find("restarted") != std::string::npos) restarted = true;
  CHECK(restarted);
}

TEST_CASE("sim: failure detection replays bit for bit from its seed", "[sim][failure_detection][determinism]") {
  auto run = [](std::uint64_t seed, bool keep) {
    sim::cluster c(seed, {.link = {.latency_min = 1ms, .latency_max = 80ms, .drop = 0.1}, .keep_trace = keep,
                          .peer_timeout = 400ms});
    for (const char* n : {"a", "b", "c"}) add_asker(c, n, n == std::string("a") ? "b" : "a");
    c.scheduler().at(150ms, [&c] { c.partition("a", "c"); });
    c.scheduler().at(900ms, [&c] { c.heal("a", "c"); });
    c.scheduler().at(1200ms, [&c] { c.crash("b"); });
    c.scheduler().at(1300ms, [&c] { c.restart("b"); });
    c.run_for(5s);
    std::size_t peer_events = 0;
    for (const sim::trace_event& e : c.trace().events())
      peer_events += e.kind == sim::event_kind::peer_up || e.kind == sim::event_kind::peer_down;
    return std::pair{c.trace_hash(), peer_events};
  };
  for (std::uint64_t seed : sim::seeds(20)) {
    INFO("seed " << seed);
    const auto first = run(seed, true);
    CHECK(first.second > 0);
    CHECK(run(seed, true) == first);
    CHECK(run(seed, false).first == run(seed, false).first);
  }
}
