// node_counters (detail/node_counters.hpp): each count lands in its own field of node_stats, the last
// process to end is recognised, and counting from many threads is exact.
#include <coactor/detail/node_counters.hpp>

#include <catch2/catch.hpp>

#include <thread>
#include <vector>

using coactor::node_stats;
using coactor::detail::node_counters;

TEST_CASE("core counters: processes started and ended, and the last one to end", "[core][lifecycle]") {
  node_counters c;
  CHECK(c.live() == 0);
  c.process_started();
  c.process_started();
  CHECK(c.live() == 2);
  CHECK_FALSE(c.process_ended());  // one is still alive
  CHECK(c.process_ended());        // that was the last
  c.process_started();
  const node_stats s = c.stats(0);
  CHECK(s.processes == 1);
  CHECK(s.spawned == 3);
}

TEST_CASE("core counters: each count has its own field", "[core]") {
  node_counters c;
  c.count_dead_letter();
  c.count_unread_dropped(2);
  c.count_stale_replies(3);
  c.count_failure();
  c.count_failure();
  c.count_failure();
  c.count_failure();
  const node_stats s = c.stats(5);
  CHECK(s.processes == 0);
  CHECK(s.spawned == 0);
  CHECK(s.dead_letters == 1);
  CHECK(s.unread_dropped == 2);
  CHECK(s.stale_replies == 3);
  CHECK(s.failures == 4);
  CHECK(s.bad_frames == 5);
}

TEST_CASE("core counters: counting from several threads loses nothing", "[core][threads]") {
  node_counters c;
  constexpr int threads = 4, each = 10000;
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t)
    workers.emplace_back([&c] {
      for (int i = 0; i < each; ++i) {
        c.process_started();
        c.count_dead_letter();
        c.process_ended();
      }
    });
  for (auto& w : workers) w.join();
  const node_stats s = c.stats(0);
  CHECK(s.processes == 0);
  CHECK(s.spawned == threads * each);
  CHECK(s.dead_letters == threads * each);
}
