// Process lifecycle: ending, failing, dead letters, unread mail, stop and run again, and destroying a
// node whose processes are still waiting.
#include "support.hpp"

#include <catch2/catch.hpp>

#include <memory>
#include <stdexcept>
#include <string>

using namespace coactor;
using namespace coactor_test;

TEST_CASE("run() returns when every process has ended, stats count them", "[lifecycle]") {
  const unsigned threads = GENERATE(1u, 2u);
  CAPTURE(threads);
  node n({.threads = threads});
  error_log errors(n);
  std::atomic<int> ran{0};
  for (int i = 0; i < 10; ++i)
    n.spawn([&](context) -> process {
      ++ran;
      co_return;
    });
  CHECK(n.stats().processes == 10);
  CHECK(n.stats().spawned == 10);
  REQUIRE(run_within(n));
  CHECK(ran == 10);
  const node_stats s = n.stats();
  CHECK(s.processes == 0);
  CHECK(s.spawned == 10);
  CHECK(s.failures == 0);
  CHECK(s.dead_letters == 0);
  CHECK(errors.size() == 0);
}

TEST_CASE("run() with no process returns at once", "[lifecycle]") {
  node n({.threads = 2});
  error_log errors(n);
  auto start = std::chrono::steady_clock::now();
  REQUIRE(run_within(n, 5s));
  CHECK(ms_since(start) < 4000);
  CHECK(n.stats().spawned == 0);
}

TEST_CASE("stop() makes run() return, the processes survive for the next run()", "[lifecycle]") {
  const unsigned threads = GENERATE(1u, 2u);
  CAPTURE(threads);
  node n({.threads = threads});
  error_log errors(n);
  std::atomic<int> stage{0};
  pid p = n.spawn([&](context self) -> process {
    stage = 1;
    self.node().stop();
    (void)co_await self.receive<quit>();
    stage = 2;
  });
  REQUIRE(run_within(n));  // returned by stop(), not by the watchdog
  CHECK(stage == 1);
  CHECK(n.stats().processes == 1);
  n.send(p, quit{});
  REQUIRE(run_within(n));
  CHECK(stage == 2);
  CHECK(n.stats().processes == 0);
  CHECK(errors.size() == 0);
}

TEST_CASE("spawn arguments and lambda captures live as long as the process", "[lifecycle]") {
  node n({.threads = 1});
  error_log errors(n);
  auto captured = std::make_shared<int>(1);
  auto argument = std::make_shared<int>(2);
  int sum = 0;
  pid p = n.spawn(
      [captured, &sum](context self, std::shared_ptr<int> arg, std::string text) -> process {
        (void)co_await self.receive<quit>();
        sum = *captured + *arg + static_cast<int>(text.size());
        co_return;
      },
      argument, std::string("abc"));
  // The process holds its own copies: the lambda (with its capture) and the argument.
  CHECK(captured.use_count() == 2);
  CHECK(argument.use_count() == 2);
  n.send(p, quit{});
  REQUIRE(run_within(n));
  CHECK(sum == 6);
  CHECK(captured.use_count() == 1);  // released when the process ended
  CHECK(argument.use_count() == 1);
  CHECK(errors.size() == 0);
}

TEST_CASE("a message to an ended process is dropped, counted and reported with its pid", "[lifecycle][dead]") {
  const unsigned threads = GENERATE(1u, 2u);
  CAPTURE(threads);
  node n({.threads = threads});
  error_log errors(n);
  pid dead = n.spawn([](context) -> process { co_return; });
  n.spawn([&, dead](context self) -> process {
    while (self.node().stats().processes > 1) co_await self.sleep(1ms);  // `dead` has ended
    self.send(dead, 1);
    self.send(dead, std::string("two"));
    self.node().send(dead, 3.0);  // from outside any process, the same
  });
  REQUIRE(run_within(n));
  CHECK(n.stats().dead_letters == 3);
  auto reports = errors.of(errc::dead_process);
  REQUIRE(reports.size() == 3);
  for (auto& r : reports) {
    CHECK(r.who == dead);
    CHECK(r.detail.find("dropped") != std::string::npos);
  }
  CHECK(errors.size() == 3);
}

TEST_CASE("node::send to a dead pid from outside is counted", "[lifecycle][dead]") {
  node n({.threads = 2});  // a concurrent node routes node::send at once
  error_log errors(n);
  pid made_up(n.incarnation(), 99, 5);
  n.send(made_up, 1);
  n.send(pid(), 2);  // the null pid names no process
  CHECK(n.stats().dead_letters == 2);
  auto reports = errors.entries();
  REQUIRE(reports.size() == 2);
  CHECK(reports[0].who == made_up);
  CHECK(reports[0].code == make_error_code(errc::dead_process));
  CHECK(reports[1].who == pid());
}

TEST_CASE("a process that throws is removed and reported, the others keep running", "[lifecycle][exception]") {
  const unsigned threads = GENERATE(1u, 2u);
  const bool before_first_suspension = GENERATE(true, false);
  CAPTURE(threads, before_first_suspension);
  node n({.threads = threads});
  error_log errors(n);
  pid thrower = n.spawn([before_first_suspension](context self) -> process {
    if (!before_first_suspension) (void)co_await self.receive<std::string>();
    throw std::runtime_error("boom from a process");
  });
  pid survivor = n.spawn([](context self) -> process {
    for (;;) {
      message m = co_await self.receive();
      if (m.is<quit>()) co_return;
      self.reply(m, m.as<int>() + 1);
    }
  });
  std::atomic<int> answer{0};
  std::atomic<bool> thrower_dead{false};
  n.spawn([&, thrower, survivor](context self) -> process {
    self.send(thrower, std::string("go"));
    auto r = co_await self.request<int>(survivor, 1, 10s);
    answer = r ? *r : -1;
    while (self.node().stats().failures == 0) co_await self.sleep(1ms);
    auto dead = co_await self.request(thrower, 1, 10s);
    thrower_dead = !dead && dead.error() == errc::dead_process;
    self.send(survivor, quit{});
  });
  REQUIRE(run_within(n));
  CHECK(answer == 2);
  CHECK(thrower_dead);
  const node_stats s = n.stats();
  CHECK(s.failures == 1);
  CHECK(s.processes == 0);
  auto reports = errors.of(errc::exception);
  REQUIRE(reports.size() == 1);
  CHECK(reports[0].who == thrower);
  CHECK(reports[0].detail == "boom from a process");
  // Thrown before the first suspension, "go" was never read: it is unread mail or a dead letter.
  CHECK(s.unread_dropped + s.dead_letters == (before_first_suspension ? 1u : 0u));
  CHECK(errors.size() == 1 + s.dead_letters + (s.unread_dropped > 0 ? 1 : 0));
}

TEST_CASE("a process that throws something other than std::exception is reported too", "[lifecycle][exception]") {
  node n({.threads = 1});
  error_log errors(n);
  pid p = n.spawn([](context) -> process {
    throw 42;
    co_return;
  });
  REQUIRE(run_within(n));
  CHECK(n.stats().failures == 1);
  auto reports = errors.of(errc::exception);
  REQUIRE(reports.size() == 1);
  CHECK(reports[0].who == p);
  CHECK(reports[0].detail == "unknown exception");
}

TEST_CASE("messages still queued when a process ends are counted and reported", "[lifecycle]") {
  node n({.threads = 1});
  error_log errors(n);
  pid p = n.spawn([](context self) -> process {
    (void)co_await self.receive<quit>();  // the ints before and after it stay unread
  });
  n.spawn([p](context self) -> process {  // all four arrive in one step, before p looks at them
    self.send(p, 1);
    self.send(p, quit{});
    self.send(p, 2);
    self.send(p, 3);
    co_return;
  });
  REQUIRE(run_within(n));
  CHECK(n.stats().unread_dropped == 3);
  auto reports = errors.of(errc::unread_messages);
  REQUIRE(reports.size() == 1);
  CHECK(reports[0].who == p);
  CHECK(reports[0].detail == "3 message(s) dropped");
  CHECK(errors.size() == 1);
}

TEST_CASE("an empty error hook silences reports but the counters still count", "[lifecycle]") {
  node n({.threads = 1});
  n.on_error({});
  n.spawn([](context) -> process {
    throw std::runtime_error("quiet");
    co_return;
  });
  REQUIRE(run_within(n));
  CHECK(n.stats().failures == 1);
}

TEST_CASE("a throwing error hook does not take the node down", "[lifecycle]") {
  node n({.threads = 1});
  int calls = 0;
  n.on_error([&](const error&, const pid&) {
    ++calls;
    throw std::runtime_error("hook failed");
  });
  n.spawn([](context self) -> process {
    self.send(pid(), 1);
    self.send(pid(), 2);
    co_return;
  });
  REQUIRE(run_within(n));
  CHECK(calls == 2);
  CHECK(n.stats().dead_letters == 2);
}

TEST_CASE("destroying a node frees processes that wait in receive, timed receive, request or sleep",
          "[lifecycle][shutdown]") {
  const unsigned threads = GENERATE(1u, 2u, 4u);
  CAPTURE(threads);
  REQUIRE(tracked::live == 0);
  auto capture = std::make_shared<int>(0);
  std::atomic<int> waiting{0};
  {
    node n({.threads = threads});
    error_log errors(n);
    // Waits forever holding a request it will not answer, and a message it received.
    pid holder = n.spawn([capture, &waiting](context self) -> process {
      message req = co_await self.receive_if([](const message& m) { return m.is_request(); });
      auto kept = co_await self.receive<tracked>();
      ++waiting;
      (void)co_await self.receive<quit>();
    });
    n.spawn([capture, &waiting](context self, tracked arg) -> process {
      ++waiting;
      (void)co_await self.receive<quit>(1h);  // a timed receive: its timer is armed
      (void)arg;
    }, tracked(1));
    n.spawn([capture, &waiting](context self) -> process {
      ++waiting;
      co_await self.sleep(1h);
    });
    n.spawn([capture, holder, &waiting](context self) -> process {
      self.send(holder, tracked(2));
      ++waiting;
      (void)co_await self.request(holder, tracked(3), 1h);
    });
    pid unread = n.spawn([capture, &waiting](context self) -> process {
      ++waiting;
      (void)co_await self.receive<quit>();  // the tracked messages queued for it stay unread
    });
    for (int i = 0; i < 5; ++i) n.send(unread, tracked(10 + i));
    n.spawn([&](context self) -> process {
      while (waiting < 5) co_await self.sleep(1ms);
      co_await self.sleep(5ms);  // let the last ones get into their waits
      self.node().stop();
    });
    REQUIRE(run_within(n));
    CHECK(waiting == 5);
    CHECK(n.stats().processes == 5);
    // Never run: spawned after run() returned.
    n.spawn([capture](context self) -> process { (void)co_await self.receive<quit>(); });
    CHECK(capture.use_count() == 7);
    CHECK(tracked::live > 0);
  }
  CHECK(capture.use_count() == 1);
  CHECK(tracked::live == 0);
}

TEST_CASE("destroying a node that never ran frees its processes and queued messages", "[lifecycle][shutdown]") {
  const unsigned threads = GENERATE(1u, 2u);
  CAPTURE(threads);
  REQUIRE(tracked::live == 0);
  auto capture = std::make_shared<int>(0);
  {
    node n({.threads = threads});
    error_log errors(n);
    pid p = n.spawn([capture](context self, tracked) -> process { (void)co_await self.receive(); }, tracked(1));
    n.send(p, tracked(2));
    n.send(p, tracked(3));
    CHECK(capture.use_count() == 2);
  }
  CHECK(capture.use_count() == 1);
  CHECK(tracked::live == 0);
}

TEST_CASE("a message sent from outside to a single-threaded node that is not running is not lost silently",
          "[lifecycle][dead]") {
  node n({.threads = 1});
  error_log errors(n);
  pid p = n.spawn([](context) -> process { co_return; });
  REQUIRE(run_within(n));
  n.send(p, 1);  // not on the scheduler's thread: handed to it for the next run()
  REQUIRE(run_within(n));
  CHECK(n.stats().dead_letters == 1);
  auto reports = errors.of(errc::dead_process);
  REQUIRE(reports.size() == 1);
  CHECK(reports[0].who == p);
}

TEST_CASE("a node on a shared scheduler can be destroyed while a message sent to it from outside is in flight",
          "[lifecycle][shutdown]") {
  REQUIRE(tracked::live == 0);
  thread_pool pool(1);
  node other(pool, {.name = "other"});
  error_log other_errors(other);
  int ran = 0;
  {
    node n(pool, {.name = "short-lived"});
    error_log errors(n);
    pid p = n.spawn([](context self) -> process { (void)co_await self.receive(); });
    other.spawn([](context self) -> process {
      co_await self.yield_now();  // n's process is waiting in receive now
      self.node().stop();
    });
    pool.run();
    n.send(p, tracked(1));  // from outside a single-threaded scheduler: posted to it
  }
  other.spawn([&](context) -> process {
    ++ran;
    co_return;
  });
  pool.run();
  CHECK(ran == 1);
  CHECK(tracked::live == 0);
  CHECK(other.stats().dead_letters == 0);
}

// Destroying a node on a shared scheduler must take its processes out of the scheduler's run queue
// (scheduler::forget): it frees them, and the scheduler would step them later.
TEST_CASE("a node on a shared scheduler can be destroyed while its processes are runnable",
          "[lifecycle][shutdown]") {
  const unsigned threads = GENERATE(1u, 2u);
  CAPTURE(threads);
  thread_pool pool(threads);
  node other(pool, {.name = "other"});
  int ran = 0;
  auto capture = std::make_shared<int>(0);
  {
    node n(pool, {.name = "short-lived"});
    pid waiting = n.spawn([capture](context self) -> process {
      (void)co_await self.receive();
      (void)co_await self.receive();
    });
    n.spawn([waiting](context self) -> process {
      co_await self.yield_now();
      self.send(waiting, 1);  // woken: runnable (queued) when the pool stops
      self.node().stop();
    });
    pool.run();
    n.spawn([capture](context) -> process { co_return; });  // queued in the pool, never run
  }
  CHECK(capture.use_count() == 1);
  other.spawn([&](context) -> process {  // pushed onto the queue that held the freed processes
    ++ran;
    co_return;
  });
  pool.run();
  CHECK(ran == 1);
}
