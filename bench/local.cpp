// Savina-style local workloads (Imam and Sarkar, "Savina - An Actor Benchmark Suite", AGERE! 2014):
// ping-pong, counting, thread-ring, and a spawn test. Prints one JSON object per line.
//
//   bench_local [--threads N] [--runs R] [--workload NAME] [--scale F]
//
// Each workload runs R times (default 5) on a fresh node; the line reports the median, with min and max.
#include <coactor/coactor.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

using namespace coactor;

namespace {

struct options {
  unsigned threads = 1;
  int runs = 5;
  std::string only;
  double scale = 1.0;
};

using clock_type = std::chrono::steady_clock;

double seconds_since(clock_type::time_point start) {
  return std::chrono::duration<double>(clock_type::now() - start).count();
}

struct stop_msg {};

// --- ping-pong: two processes exchange N round trips -------------------------------------------
double ping_pong(unsigned threads, long n) {
  node nd({.threads = threads});
  nd.on_error({});
  pid pong = nd.spawn([](context self) -> process {
    for (;;) {
      message m = co_await self.receive();
      if (m.is<stop_msg>()) co_return;
      self.send(m.sender(), m.as<long>());
    }
  });
  auto start = clock_type::now();
  nd.spawn([](context self, pid peer, long count) -> process {
    for (long i = 0; i < count; ++i) {
      self.send(peer, i);
      auto reply = co_await self.receive<long>();
      if (*reply != i) std::abort();
    }
    self.send(peer, stop_msg{});
  }, pong, n);
  nd.run();
  return n / seconds_since(start);
}

// --- counting: one process sends N messages to a counter, then asks for the total ---------------
double counting(unsigned threads, long n) {
  node nd({.threads = threads});
  nd.on_error({});
  struct get_total {};
  pid counter = nd.spawn([](context self) -> process {
    long total = 0;
    for (;;) {
      message m = co_await self.receive();
      if (long* v = m.get_if<long>()) {
        total += *v;
      } else {
        self.reply(m, total);
        co_return;
      }
    }
  });
  auto start = clock_type::now();
  nd.spawn([](context self, pid target, long count) -> process {
    for (long i = 0; i < count; ++i) self.send(target, 1L);
    auto total = co_await self.request<long>(target, get_total{}, std::chrono::seconds(60));
    if (!total || *total != count) std::abort();
  }, counter, n);
  nd.run();
  return n / seconds_since(start);
}

// --- thread-ring: P processes in a ring pass a token N hops ------------------------------------
double thread_ring(unsigned threads, long hops, int ring_size) {
  node nd({.threads = threads});
  nd.on_error({});
  struct token {
    long remaining;
  };
  struct link {
    pid next;
  };
  std::vector<pid> ring;
  for (int i = 0; i < ring_size; ++i)
    ring.push_back(nd.spawn([](context self) -> process {
      pid next = (co_await self.receive<link>())->next;
      for (;;) {
        auto t = co_await self.receive<token>();
        long left = t->remaining;
        self.send(next, token{left - 1});  // the next member stops at -1 after passing it on
        if (left <= 0) co_return;
      }
    }));
  for (int i = 0; i < ring_size; ++i) nd.send(ring[i], link{ring[(i + 1) % ring_size]});
  auto start = clock_type::now();
  nd.send(ring[0], token{hops});
  nd.run();
  return hops / seconds_since(start);
}

long rss_kib() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::strtol(line.c_str() + 6, nullptr, 10);
  return 0;
}

// --- spawn: N processes that each wait for one message; then each is sent its message ----------
struct spawn_figures {
  double seconds;
  double bytes_per_process;
};
spawn_figures spawn_in_this_process(unsigned threads, long n) {
  node nd({.threads = threads});
  nd.on_error({});
  std::vector<pid> pids(static_cast<std::size_t>(n));  // touched now, so it is not counted below
  std::atomic<long> started{0};
  long before = rss_kib();
  auto start = clock_type::now();
  for (long i = 0; i < n; ++i)
    pids[static_cast<std::size_t>(i)] = nd.spawn([](context self, std::atomic<long>& count, long total) -> process {
      if (count.fetch_add(1) + 1 == total) self.node().stop();  // the last one to start
      co_await self.receive();
    }, std::ref(started), n);
  nd.run();  // returns once every process has started and waits in its receive
  long rss_waiting = rss_kib();
  nd.spawn([](context self, const std::vector<pid>& targets) -> process {
    for (const pid& p : targets) self.send(p, 1);
    co_return;
  }, std::cref(pids));
  nd.run();  // returns when every process has received its message and ended
  double secs = seconds_since(start);
  if (nd.stats().processes != 0) std::abort();
  return {secs, (rss_waiting - before) * 1024.0 / static_cast<double>(n)};
}

// Each run in a fresh child process, so that memory kept by earlier runs does not hide the RSS growth.
spawn_figures spawn_test(unsigned threads, long n) {
  int fds[2];
  if (pipe(fds) != 0) std::abort();
  pid_t child = fork();
  if (child == 0) {
    spawn_figures f = spawn_in_this_process(threads, n);
    if (write(fds[1], &f, sizeof f) != static_cast<ssize_t>(sizeof f)) _exit(1);
    _exit(0);
  }
  close(fds[1]);
  spawn_figures f{};
  if (read(fds[0], &f, sizeof f) != static_cast<ssize_t>(sizeof f)) std::abort();
  close(fds[0]);
  int status = 0;
  waitpid(child, &status, 0);
  return f;
}

template <class F>
std::vector<double> repeat(int runs, F f) {
  std::vector<double> v;
  for (int i = 0; i < runs; ++i) v.push_back(f());
  std::sort(v.begin(), v.end());
  return v;
}

void print(const char* workload, const std::vector<double>& v, const char* unit, unsigned threads, long n,
           const char* extra = "") {
  std::printf(
      "{\"workload\": \"%s\", \"value\": %.0f, \"unit\": \"%s\", \"min\": %.0f, \"max\": %.0f, \"runs\": %zu, "
      "\"threads\": %u, \"n\": %ld%s}\n",
      workload, v[v.size() / 2], unit, v.front(), v.back(), v.size(), threads, n, extra);
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&] { return i + 1 < argc ? std::string(argv[++i]) : std::string(); };
    if (a == "--threads") o.threads = static_cast<unsigned>(std::stoul(next()));
    else if (a == "--runs") o.runs = std::stoi(next());
    else if (a == "--workload") o.only = next();
    else if (a == "--scale") o.scale = std::stod(next());
    else {
      std::fprintf(stderr, "usage: %s [--threads N] [--runs R] [--workload NAME] [--scale F]\n", argv[0]);
      return 2;
    }
  }
  auto want = [&](const char* w) { return o.only.empty() || o.only == w; };
  const long n = static_cast<long>(1'000'000 * o.scale);

  if (want("ping-pong"))
    print("ping-pong", repeat(o.runs, [&] { return ping_pong(o.threads, n); }), "round_trips/s", o.threads, n);
  if (want("counting"))
    print("counting", repeat(o.runs, [&] { return counting(o.threads, n); }), "messages/s", o.threads, n);
  if (want("thread-ring"))
    print("thread-ring", repeat(o.runs, [&] { return thread_ring(o.threads, n, 100); }), "hops/s", o.threads, n);
  if (want("spawn")) {
    std::vector<spawn_figures> runs;
    for (int i = 0; i < o.runs; ++i) runs.push_back(spawn_test(o.threads, n));
    std::sort(runs.begin(), runs.end(), [](auto& a, auto& b) { return a.seconds < b.seconds; });
    const spawn_figures& m = runs[runs.size() / 2];
    std::vector<double> bytes;
    for (auto& r : runs) bytes.push_back(r.bytes_per_process);
    std::sort(bytes.begin(), bytes.end());
    std::printf(
        "{\"workload\": \"spawn\", \"value\": %.3f, \"unit\": \"s\", \"min\": %.3f, \"max\": %.3f, \"runs\": %zu, "
        "\"threads\": %u, \"n\": %ld, \"bytes_per_process\": %.0f}\n",
        m.seconds, runs.front().seconds, runs.back().seconds, runs.size(), o.threads, n, bytes[bytes.size() / 2]);
  }
}
