// Threads: many senders to one process, multi-threaded nodes under load, processes spawning processes,
// and a single-threaded node driven from other threads while it runs.
#include "support.hpp"

#include <catch2/catch.hpp>

#include <mutex>
#include <string>
#include <thread>
#include <vector>

using namespace coactor;
using namespace coactor_test;

namespace {

/// Receives seq_msg from `senders` senders until `total` have come; counts what was out of order.
struct order_checker {
  explicit order_checker(int senders) : next(senders, 0) {}
  std::vector<int> next;
  int received = 0;
  int out_of_order = 0;
  int bad_sender = 0;
  void see(const seq_msg& m) {
    if (m.sender < 0 || m.sender >= static_cast<int>(next.size())) {
      ++bad_sender;
      return;
    }
    if (m.seq != next[m.sender]) ++out_of_order;
    next[m.sender] = m.seq + 1;
    ++received;
  }
};

}  // namespace

TEST_CASE("many threads sending to one process: all arrive, each sender's in order", "[threads][order]") {
  node n({.threads = 4});
  error_log errors(n);
  constexpr int process_senders = 4, thread_senders = 4, per_sender = 5000;
  constexpr int senders = process_senders + thread_senders;
  order_checker check(senders);
  pid receiver = n.spawn([&](context self) -> process {
    while (check.received < senders * per_sender) check.see(*co_await self.receive<seq_msg>());
  });
  for (int s = 0; s < process_senders; ++s)
    n.spawn([receiver, s](context self) -> process {
      for (int i = 0; i < per_sender; ++i) {
        self.send(receiver, seq_msg{s, i});
        if (i % 500 == 0) co_await self.yield_now();
      }
    });
  std::vector<std::thread> outside;
  for (int t = 0; t < thread_senders; ++t)
    outside.emplace_back([&n, receiver, t] {
      for (int i = 0; i < per_sender; ++i) n.send(receiver, seq_msg{process_senders + t, i});
    });
  const bool finished = run_within(n, 20s);
  for (auto& t : outside) t.join();
  REQUIRE(finished);
  CHECK(check.received == senders * per_sender);
  CHECK(check.out_of_order == 0);
  CHECK(check.bad_sender == 0);
  CHECK(n.stats().dead_letters == 0);
  CHECK(n.stats().unread_dropped == 0);
  CHECK(errors.size() == 0);
}

TEST_CASE("ping-pong and request storms on a multi-threaded node", "[threads]") {
  const unsigned threads = GENERATE(2u, 3u, 4u);
  CAPTURE(threads);
  node n({.threads = threads});
  error_log errors(n);
  constexpr int pairs = 16, rounds = 300;
  std::atomic<long> pongs{0}, replies{0}, wrong{0};
  std::atomic<int> pairs_done{0};
  n.spawn([&](context self) -> process {
    for (int p = 0; p < pairs; ++p) {
      // Spawned from a process: the pong answers plain pings and requests alike.
      pid pong = self.spawn([&](context me) -> process {
        for (;;) {
          message m = co_await me.receive();
          if (m.is<quit>()) co_return;
          if (m.is_request()) {
            me.reply(m, m.as<int>() + 1);
          } else {
            me.send(m.sender(), m.as<int>() + 1);
            ++pongs;
          }
        }
      });
      self.spawn(
          [&](context me, pid peer, pid root) -> process {
            for (int i = 0; i < rounds; ++i) {
              me.send(peer, i);
              if (*co_await me.receive<int>() != i + 1) ++wrong;
              auto r = co_await me.request<int>(peer, 1000 + i, 10s);
              if (r && *r == 1001 + i)
                ++replies;
              else
                ++wrong;
            }
            me.send(peer, quit{});
            me.send(root, subtotal{1});
          },
          pong, self.pid());
    }
    long total = 0;
    for (int p = 0; p < pairs; ++p) total += (*co_await self.receive<subtotal>()).value;
    pairs_done = static_cast<int>(total);
  });
  REQUIRE(run_within(n, 20s));
  CHECK(pairs_done == pairs);
  CHECK(pongs == pairs * rounds);
  CHECK(replies == pairs * rounds);
  CHECK(wrong == 0);
  const node_stats s = n.stats();
  CHECK(s.spawned == 1 + 2 * pairs);
  CHECK(s.processes == 0);
  CHECK(s.dead_letters == 0);
  CHECK(s.unread_dropped == 0);
  CHECK(s.stale_replies == 0);
  CHECK(s.failures == 0);
  CHECK(errors.size() == 0);
}

TEST_CASE("many clients requesting a few servers at once get exactly their own replies", "[threads][request]") {
  const unsigned threads = GENERATE(1u, 4u);
  CAPTURE(threads);
  node n({.threads = threads});
  error_log errors(n);
  constexpr int servers = 3, clients = 24, requests = 200;
  std::atomic<long> ok{0}, bad{0};
  std::vector<pid> server_pids;
  for (int s = 0; s < servers; ++s)
    server_pids.push_back(n.spawn([](context self) -> process {
      for (;;) {
        message m = co_await self.receive();
        if (m.is<quit>()) co_return;
        const seq_msg q = m.as<seq_msg>();
        self.reply(m, seq_msg{q.seq, q.sender});  // swapped, so that the client can check it
      }
    }));
  std::atomic<int> clients_left{clients};
  for (int c = 0; c < clients; ++c)
    n.spawn([&, c](context self) -> process {
      for (int i = 0; i < requests; ++i) {
        auto r = co_await self.request<seq_msg>(server_pids[(c + i) % servers], seq_msg{c, i}, 10s);
        (r && r->sender == i && r->seq == c ? ok : bad)++;
      }
      if (--clients_left == 0)
        for (const pid& s : server_pids) self.send(s, quit{});
    });
  REQUIRE(run_within(n, 20s));
  CHECK(ok == clients * requests);
  CHECK(bad == 0);
  CHECK(n.stats().processes == 0);
  CHECK(n.stats().stale_replies == 0);
  CHECK(errors.size() == 0);
}

TEST_CASE("processes spawn processes: a tree of processes sums its leaves", "[threads][spawn]") {
  const unsigned threads = GENERATE(1u, 2u, 4u);
  CAPTURE(threads);
  node n({.threads = threads});
  error_log errors(n);
  constexpr int fanout = 4, depth = 4;  // 4 + 16 + 64 + 256 processes below the root
  std::atomic<long> total{0};
  struct tree {
    static process body(context self, pid parent, int level) {
      long sum = 0;
      if (level == depth) {
        sum = 1;
      } else {
        for (int i = 0; i < fanout; ++i) self.spawn(&tree::body, self.pid(), level + 1);
        for (int i = 0; i < fanout; ++i) sum += (*co_await self.receive<subtotal>()).value;
      }
      self.send(parent, subtotal{sum});
    }
  };
  n.spawn([&](context self) -> process {
    self.spawn(&tree::body, self.pid(), 0);
    total = (*co_await self.receive<subtotal>()).value;
  });
  REQUIRE(run_within(n, 20s));
  CHECK(total == 256);
  const node_stats s = n.stats();
  CHECK(s.spawned == 2 + 4 + 16 + 64 + 256);
  CHECK(s.processes == 0);
  CHECK(s.dead_letters == 0);
  CHECK(errors.size() == 0);
}

TEST_CASE("a single-threaded node driven from other threads while it runs", "[threads][admission]") {
  node n({.threads = 1});
  error_log errors(n);
  constexpr int spawned_workers = 40, per_worker = 50;
  constexpr int main_sends = 2000;
  constexpr int helpers = 2, helper_sends = 1000, helper_spawns = 20;
  constexpr int senders = 1 + helpers;  // seq_msg senders: main thread, helper threads
  constexpr int expected_ints = spawned_workers * per_worker + helpers * helper_spawns;

  std::atomic<bool> started{false};
  order_checker check(senders);
  long ints = 0;
  std::atomic<bool> collector_done{false};
  pid collector = n.spawn([&](context self) -> process {
    started = true;
    while (check.received < main_sends + helpers * helper_sends || ints < expected_ints) {
      message m = co_await self.receive();
      if (const seq_msg* s = m.get_if<seq_msg>())
        check.see(*s);
      else if (const int* v = m.get_if<int>())
        ints += *v;
    }
    collector_done = true;
  });

  bool finished = false;
  std::thread runner([&] { finished = run_within(n, 20s); });
  while (!started) std::this_thread::yield();

  // From this (foreign) thread, while run() runs on the other one.
  CHECK(n.register_name("collector", collector));
  auto found = n.whereis("collector");
  REQUIRE(found);
  CHECK(*found == collector);
  CHECK(n.unregister_name("collector"));
  CHECK_FALSE(n.whereis("collector"));
  CHECK(n.register_name("collector", collector));  // held until the collector ends

  auto worker = [](context self, pid to, int count) -> process {
    for (int i = 0; i < count; ++i) {
      self.send(to, 1);
      if (i % 10 == 0) co_await self.yield_now();
    }
  };
  std::atomic<int> registry_failures{0};
  std::vector<std::thread> helper_threads;
  for (int h = 0; h < helpers; ++h)
    helper_threads.emplace_back([&, h] {
      for (int i = 0; i < helper_sends; ++i) {
        n.send(collector, seq_msg{1 + h, i});
        if (i % (helper_sends / helper_spawns) == 0) {
          n.spawn(worker, collector, 1);
          const std::string name = "helper-" + std::to_string(h) + "-" + std::to_string(i);
          pid p = n.spawn([](context self) -> process { (void)co_await self.receive<quit>(); });
          const bool ok = n.register_name(name, p) && n.whereis(name) && *n.whereis(name) == p &&
                          n.unregister_name(name) && !n.whereis(name);
          if (!ok) ++registry_failures;
          n.send(p, quit{});
        }
      }
    });
  for (int w = 0; w < spawned_workers; ++w) {
    n.spawn(worker, collector, per_worker);
    for (int i = 0; i < main_sends / spawned_workers; ++i)
      n.send(collector, seq_msg{0, w * (main_sends / spawned_workers) + i});
  }
  for (auto& t : helper_threads) t.join();
  runner.join();
  REQUIRE(finished);
  CHECK(collector_done);
  CHECK(registry_failures == 0);
  CHECK(check.out_of_order == 0);
  CHECK(check.bad_sender == 0);
  CHECK(check.received == main_sends + helpers * helper_sends);
  CHECK(ints == expected_ints);
  const node_stats s = n.stats();
  CHECK(s.spawned == 1 + spawned_workers + helpers * helper_spawns * 2);
  CHECK(s.processes == 0);
  CHECK(s.dead_letters == 0);
  CHECK(s.unread_dropped == 0);
  CHECK(errors.size() == 0);
  CHECK_FALSE(n.whereis("collector"));
}

TEST_CASE("foreign threads spawn on a multi-threaded node while it runs", "[threads][spawn]") {
  node n({.threads = 3});
  error_log errors(n);
  std::atomic<bool> started{false};
  std::atomic<long> sum{0};
  constexpr int spawners = 3, per_spawner = 200;
  pid keeper = n.spawn([&](context self) -> process {
    started = true;
    (void)co_await self.receive<quit>();
  });
  bool finished = false;
  std::thread runner([&] { finished = run_within(n, 20s); });
  while (!started) std::this_thread::yield();
  std::vector<std::thread> spawners_threads;
  for (int t = 0; t < spawners; ++t)
    spawners_threads.emplace_back([&] {
      for (int i = 0; i < per_spawner; ++i) {
        pid p = n.spawn([&](context self) -> process {
          sum += *co_await self.receive<int>();
        });
        n.send(p, i);
      }
    });
  for (auto& t : spawners_threads) t.join();
  // Let the spawned ones finish before the keeper lets run() end.
  auto deadline = std::chrono::steady_clock::now() + 10s;
  while (n.stats().processes > 1 && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(1ms);
  n.send(keeper, quit{});
  runner.join();
  REQUIRE(finished);
  CHECK(sum == spawners * (per_spawner * (per_spawner - 1) / 2));
  CHECK(n.stats().spawned == 1 + spawners * per_spawner);
  CHECK(n.stats().processes == 0);
  CHECK(errors.size() == 0);
}

TEST_CASE("a single-threaded node: deliveries from outside and admitted calls do not overlap",
          "[threads][admission]") {
  // One foreign thread spawns processes that end at once (admitted: it enters the process table, in
  // the slot the last ended process freed); another sends to the last ended pid (posted: the worker
  // routes it, reading that same slot, then reports a dead letter to a slow hook). The two must never
  // touch the node at the same time (TSan checks).
  node n({.threads = 1});
  std::atomic<int> reports{0};
  n.on_error([&](const error&, const pid&) {
    ++reports;
    std::this_thread::sleep_for(100us);
  });
  std::atomic<bool> started{false};
  pid keeper = n.spawn([&](context self) -> process {
    started = true;
    (void)co_await self.receive<quit>();
  });
  bool finished = false;
  std::thread runner([&] { finished = run_within(n, 20s); });
  while (!started) std::this_thread::yield();

  constexpr int rounds = 300;
  std::mutex m;
  pid last;
  std::atomic<bool> spawning{true};
  std::atomic<int> sent{0};
  std::thread spawner([&] {
    for (int i = 0; i < rounds; ++i) {
      pid p = n.spawn([](context) -> process { co_return; });
      while (n.stats().processes > 1) std::this_thread::yield();  // it has ended: its slot is free
      {
        std::lock_guard lock(m);
        last = p;
      }
      std::this_thread::sleep_for(50us);
    }
    spawning = false;
  });
  std::thread sender([&] {
    while (spawning) {
      pid to;
      {
        std::lock_guard lock(m);
        to = last;
      }
      if (to) {
        n.send(to, 1);
        ++sent;
      }
      std::this_thread::sleep_for(250us);  // slower than the hook: the worker is idle in between
    }
  });
  spawner.join();
  sender.join();
  n.send(keeper, quit{});  // after every send of this thread: it comes last
  runner.join();
  REQUIRE(finished);
  const node_stats s = n.stats();
  CHECK(s.spawned == 1 + rounds);
  CHECK(s.processes == 0);
  CHECK(s.dead_letters == static_cast<std::uint64_t>(sent.load()));  // every pid sent to had ended
  CHECK(reports == sent);
}

TEST_CASE("a single-threaded node flooded with sends from other threads still runs its processes",
          "[threads][admission]") {
  node n({.threads = 1});
  // Each dead letter costs the worker more than a send costs its sender: the worker cannot keep up.
  n.on_error([](const error&, const pid&) { std::this_thread::sleep_for(5us); });
  std::atomic<bool> started{false}, done{false};
  std::atomic<int> steps{0};
  std::atomic<long> sent{0};
  n.spawn([&](context self) -> process {
    started = true;
    while (sent < 5000) co_await self.sleep(1ms);  // the flood is on
    for (int i = 0; i < 200; ++i) {
      co_await self.yield_now();
      ++steps;
    }
    done = true;
  });
  bool finished = false;
  std::thread runner([&] { finished = run_within(n, 10s); });
  while (!started) std::this_thread::yield();
  std::vector<std::thread> flood;
  for (int t = 0; t < 2; ++t)
    flood.emplace_back([&] {
      const pid nobody(n.incarnation(), 1, 0);
      // Until the process is done, or for 12 s at most (the node's watchdog fires at 10 s), keeping a
      // backlog of up to 1000 sends: never empty, never long to drain.
      const auto give_up = std::chrono::steady_clock::now() + 12s;
      while (!done && std::chrono::steady_clock::now() < give_up) {
        if (sent - static_cast<long>(n.stats().dead_letters) > 1000) {
          std::this_thread::yield();
          continue;
        }
        n.send(nobody, 1);
        ++sent;
      }
    });
  for (auto& t : flood) t.join();
  runner.join();
  INFO("steps " << steps << ", sent " << sent << ", dead letters " << n.stats().dead_letters);
  CHECK(finished);
  CHECK(done);
  CHECK(steps == 200);
}
