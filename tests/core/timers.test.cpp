// Time: sleep, yield_now, and receive timeouts racing message deliveries.
#include "support.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <thread>
#include <vector>

using namespace coactor;
using namespace coactor_test;

TEST_CASE("sleep suspends for at least its duration and leaves the mail alone", "[timers][sleep]") {
  const unsigned threads = GENERATE(1u, 2u);
  CAPTURE(threads);
  node n({.threads = threads});
  error_log errors(n);
  std::atomic<double> slept_ms{0};
  std::vector<int> got;
  pid sleeper = n.spawn([&](context self) -> process {
    auto start = std::chrono::steady_clock::now();
    co_await self.sleep(30ms);
    slept_ms = ms_since(start);
    for (int i = 0; i < 3; ++i) got.push_back(**co_await self.receive<int>(0ns));  // queued meanwhile
  });
  n.spawn([&, sleeper](context self) -> process {
    for (int i = 0; i < 3; ++i) self.send(sleeper, i);
    co_return;
  });
  REQUIRE(run_within(n));
  CHECK(slept_ms >= 30.0);
  CHECK(got == std::vector<int>{0, 1, 2});
  CHECK(errors.size() == 0);
}

TEST_CASE("sleep of zero or a negative duration does not suspend", "[timers][sleep]") {
  const duration d = GENERATE(duration::zero(), duration(-std::chrono::seconds(1)));
  node n({.threads = 1});
  error_log errors(n);
  bool other_ran = false, other_ran_meanwhile = true;
  n.spawn([&](context self) -> process {
    co_await self.sleep(d);
    other_ran_meanwhile = other_ran;
  });
  n.spawn([&](context) -> process {
    other_ran = true;
    co_return;
  });
  REQUIRE(run_within(n));
  CHECK(other_ran);
  CHECK_FALSE(other_ran_meanwhile);
  CHECK(errors.size() == 0);
}

TEST_CASE("many sleepers all wake, none early", "[timers][sleep]") {
  const unsigned threads = GENERATE(1u, 3u);
  CAPTURE(threads);
  node n({.threads = threads});
  error_log errors(n);
  constexpr int sleepers = 200;
  std::atomic<int> woke{0}, early{0};
  for (int i = 0; i < sleepers; ++i)
    n.spawn([&, i](context self) -> process {
      const auto d = std::chrono::microseconds((i * 37) % 5000);
      for (int round = 0; round < 3; ++round) {
        const time_point before = self.node().scheduler().now();
        co_await self.sleep(d);
        if (self.node().scheduler().now() - before < d) ++early;
      }
      ++woke;
    });
  REQUIRE(run_within(n));
  CHECK(woke == sleepers);
  CHECK(early == 0);
  CHECK(errors.size() == 0);
}

TEST_CASE("yield_now lets the other runnable processes run first", "[timers][yield]") {
  node n({.threads = 1});
  error_log errors(n);
  std::string trace;
  for (char name : {'a', 'b', 'c'})
    n.spawn([&, name](context self) -> process {
      for (int i = 0; i < 4; ++i) {
        trace += name;
        co_await self.yield_now();
      }
    });
  REQUIRE(run_within(n));
  CHECK(trace == "abcabcabcabc");
  CHECK(errors.size() == 0);
}

TEST_CASE("a process busy-waiting with yield_now does not starve the one it waits for", "[timers][yield]") {
  const unsigned threads = GENERATE(1u, 2u);
  CAPTURE(threads);
  node n({.threads = threads});
  error_log errors(n);
  std::atomic<bool> flag{false};
  std::atomic<long> spins{0};
  // One spinner per worker, so that the process that sets the flag depends on yield_now to run.
  for (unsigned i = 0; i < threads; ++i)
    n.spawn([&](context self) -> process {
      while (!flag) {
        ++spins;
        co_await self.yield_now();
      }
    });
  n.spawn([&](context) -> process {
    flag = true;
    co_return;
  });
  REQUIRE(run_within(n));
  CHECK(flag);
  // Each spinner yields once, then the setter runs (on one thread, exactly; with more, a few rounds).
  if (threads == 1)
    CHECK(spins == 1);
  else
    CHECK(spins < 50);
  CHECK(errors.size() == 0);
}

TEST_CASE("receive timeouts racing deliveries lose nothing and duplicate nothing", "[timers][timeout][race]") {
  const unsigned threads = GENERATE(1u, 2u, 4u);
  CAPTURE(threads);
  node n({.threads = threads});
  error_log errors(n);
  constexpr int process_senders = 2, thread_senders = 2, per_sender = 2500;
  constexpr int senders = process_senders + thread_senders;
  constexpr int total = senders * per_sender;
  const duration timeouts[] = {0ns, 1us, 3us, 10us, 50us, 200us};

  int received = 0, timed_out = 0, out_of_order = 0, other = 0;
  bool extra = true;
  pid receiver = n.spawn([&](context self) -> process {
    std::vector<int> next(senders, 0);
    for (int i = 0; received < total; ++i) {
      auto r = co_await self.receive<seq_msg>(timeouts[i % std::size(timeouts)]);
      if (!r) {
        (r.error() == errc::timeout ? timed_out : other)++;
        continue;
      }
      const seq_msg m = **r;
      if (m.sender < 0 || m.sender >= senders) {
        ++other;
        continue;
      }
      if (m.seq != next[m.sender]) ++out_of_order;  // a loss or a duplicate shows here
      next[m.sender] = m.seq + 1;
      ++received;
    }
    auto more = co_await self.receive(20ms);  // nothing may be left over
    extra = static_cast<bool>(more);
  });
  for (int s = 0; s < process_senders; ++s)
    n.spawn([receiver, s](context self) -> process {
      for (int i = 0; i < per_sender; ++i) {
        self.send(receiver, seq_msg{s, i});
        if (i % 16 == 0) co_await self.yield_now();
        if (i % 101 == 0) co_await self.sleep(i % 2 ? 30us : 0us);
      }
    });
  std::vector<std::thread> outside;
  for (int t = 0; t < thread_senders; ++t)
    outside.emplace_back([&n, receiver, t] {
      for (int i = 0; i < per_sender; ++i) {
        n.send(receiver, seq_msg{process_senders + t, i});
        if (i % 64 == 0) std::this_thread::sleep_for(20us);
      }
    });
  const bool finished = run_within(n, 30s);
  for (auto& t : outside) t.join();
  REQUIRE(finished);
  INFO("timeouts: " << timed_out);
  CHECK(received == total);
  CHECK(out_of_order == 0);
  CHECK(other == 0);
  CHECK_FALSE(extra);
  CHECK(n.stats().unread_dropped == 0);
  CHECK(n.stats().dead_letters == 0);
  CHECK(errors.size() == 0);
}

TEST_CASE("a timeout tick left behind does not time out a later receive", "[timers][timeout]") {
  node n({.threads = 1});
  error_log errors(n);
  int got = 0;
  int early_timeouts = 0;
  pid receiver = n.spawn([&](context self) -> process {
    // Short timed receives whose ticks may still be queued or in flight when they complete.
    for (int i = 0; i < 50; ++i) {
      auto r = co_await self.receive<int>(1us);
      if (r) ++got;
    }
    co_await self.sleep(2ms);  // every tick of the receives above has fired by now
    auto r = co_await self.receive<std::string>(10s);
    if (!r) ++early_timeouts;
  });
  n.spawn([receiver](context self) -> process {
    for (int i = 0; i < 50; ++i) {
      self.send(receiver, i);
      co_await self.yield_now();
    }
    co_await self.sleep(10ms);
    self.send(receiver, std::string("finally"));
  });
  REQUIRE(run_within(n));
  CHECK(early_timeouts == 0);
  CHECK(n.stats().unread_dropped == static_cast<std::uint64_t>(50 - got));  // ints not taken stay queued
  CHECK(errors.size() == (got < 50 ? 1u : 0u));
}

TEST_CASE("a pending receive timeout does not keep run() going after the process ends", "[timers][timeout]") {
  node n({.threads = 2});
  error_log errors(n);
  std::atomic<int> got{0};
  pid receiver = n.spawn([&](context self) -> process {
    auto r = co_await self.receive<int>(1h);  // answered at once: its timer is disarmed
    got = r ? **r : -1;
  });
  n.send(receiver, 7);
  auto start = std::chrono::steady_clock::now();
  REQUIRE(run_within(n));
  CHECK(got == 7);
  CHECK(ms_since(start) < 5000);
  CHECK(errors.size() == 0);
}
