// Simulated messages per second of wall time, for two workloads on a four-node cluster on one thread,
// over the simulated network (every message encoded, framed, scheduled on virtual time with a random
// latency, parsed, decoded, delivered):
//   sim            pairs of processes on different nodes passing a counter back and forth (by pid)
//   sim-requests   clients on three nodes making requests (by registered name, 16-byte payload) to a
//                  server on the fourth
// Prints one JSON object per line.
//
//   bench_sim [--runs R] [--messages N]
#include <coactor/coactor.hpp>
#include <coactor/sim/cluster.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

using namespace coactor;
using namespace std::chrono_literals;

namespace {

struct work {
  std::int64_t n;
  std::string payload;
};

process server(context self) {
  for (;;) {
    message m = co_await self.receive();
    if (auto* w = m.get_if<work>()) self.reply(m, w->n + 1);
  }
}

process client(context self, long requests) {
  process_name target{"server", "server"};
  for (long i = 0; i < requests; ++i) {
    auto r = co_await self.request<std::int64_t>(target, coactor::make<work>(i, "0123456789abcdef"), 10s);
    if (!r || *r != i + 1) std::abort();
  }
}

struct ball {
  std::int64_t n;
  pid from;
};

process bouncer(context self, long hops) {
  for (;;) {
    auto m = co_await self.receive<ball>();
    if (m->n >= hops) co_return;
    self.send(m->from, ball{m->n + 1, self.pid()});
    if (m->n + 1 >= hops) co_return;
  }
}

double run_bounce(long total_messages) {
  sim::cluster c(42, {.link = {.latency_min = 100us, .latency_max = 2ms}, .keep_trace = false});
  const int pairs = 32;
  const long hops = total_messages / pairs;
  std::vector<pid> left, right;
  c.add_node("a", [&](node& n) { for (int i = 0; i < pairs / 2; ++i) left.push_back(n.spawn(bouncer, hops)); });
  c.add_node("b", [&](node& n) { for (int i = 0; i < pairs / 2; ++i) right.push_back(n.spawn(bouncer, hops)); });
  c.add_node("c", [&](node& n) { for (int i = 0; i < pairs / 2; ++i) left.push_back(n.spawn(bouncer, hops)); });
  c.add_node("d", [&](node& n) { for (int i = 0; i < pairs / 2; ++i) right.push_back(n.spawn(bouncer, hops)); });
  for (std::size_t i = 0; i < left.size(); ++i) c["a"].send(left[i], ball{0, right[i]});
  const auto start = std::chrono::steady_clock::now();
  if (!c.run_until_idle()) std::abort();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  for (const char* name : {"a", "b", "c", "d"})
    if (c[name].stats().processes != 0) std::abort();  // every ball went all the way
  return static_cast<double>(hops) * static_cast<double>(left.size()) / seconds;
}

double run_requests(long total_requests) {
  sim::cluster c(42, {.link = {.latency_min = 100us, .latency_max = 2ms}, .keep_trace = false});
  c.add_node("server", [](node& n) { n.register_name("server", n.spawn(server)).value(); });
  const int clients_per_node = 10;
  const long per_client = total_requests / (3 * clients_per_node);
  for (const char* name : {"c1", "c2", "c3"})
    c.add_node(name, [&](node& n) {
      for (int k = 0; k < clients_per_node; ++k) n.spawn(client, per_client);
    });
  const auto start = std::chrono::steady_clock::now();
  if (!c.run_until_idle()) std::abort();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const double messages = 2.0 * static_cast<double>(per_client) * 3 * clients_per_node;  // request + reply
  return messages / seconds;  // NOLINT
}

}  // namespace

int main(int argc, char** argv) {
  int runs = 5;
  long messages = 1'000'000;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--runs" && i + 1 < argc) runs = std::stoi(argv[++i]);
    else if (a == "--messages" && i + 1 < argc) messages = std::stol(argv[++i]);
    else {
      std::fprintf(stderr, "usage: %s [--runs R] [--messages N]\n", argv[0]);
      return 2;
    }
  }
  auto report = [&](const char* workload, auto run) {
    std::vector<double> v;
    for (int i = 0; i < runs; ++i) v.push_back(run());
    std::sort(v.begin(), v.end());
    std::printf("{\"workload\": \"%s\", \"value\": %.0f, \"unit\": \"messages/s\", \"min\": %.0f, \"max\": %.0f, "
                "\"runs\": %zu, \"messages\": %ld, \"nodes\": 4, \"threads\": 1}\n",
                workload, v[v.size() / 2], v.front(), v.back(), v.size(), messages);
    std::fflush(stdout);
  };
  report("sim", [&] { return run_bounce(messages); });
  report("sim-requests", [&] { return run_requests(messages / 2); });
}
