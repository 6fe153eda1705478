// What failures cost: how long a node takes to learn that a peer in another OS process is gone, and what
// tcp_pooled's heartbeats cost while nothing fails. A client node runs here, a server node in a child
// process (this program again, with --serve), both on 127.0.0.1. Prints one JSON object per line, with
// "workload", "transport", "value" and "unit", the median of --runs runs ("min", "max"), and the
// transport's settings ("heartbeat_ms", "peer_timeout_ms"; per-message: "connect_timeout_ms").
//
//   detect-kill                ms from kill -9 of the server process to the down message of a process
//                              here that monitors one there (reason noconnection)
//   fail-pending               ms from kill -9 of the server process to the last of --pending requests
//                              (100) that it held unanswered failing here (errc::node_down); "first" is
//                              the first one
//   detect-stop                ms from SIGSTOP of the server process (it freezes; the kernel keeps its
//                              sockets open and acknowledges what arrives, so only the missing heartbeats
//                              tell) to the down message; pooled with heartbeats only
//   reconnect-loss             messages lost or duplicated (the worst run; must be 0) when the pooled
//                              connection between two nodes of this process is reset 10 times during
//                              1,000,000 messages (--scale); with the sender's counts for the last run
//                              ("sent", "delivered", "reported_failed") and the median time ("seconds")
//   heartbeat-cost-rtt         pooled remote-rtt (bench/remote.cpp) with heartbeats on, as a ratio to
//                              the same with heartbeats off (heartbeat_interval 0); "on" and "off" are
//                              the medians of the two (mean µs per round trip)
//   heartbeat-cost-throughput  the same for remote-throughput (messages/s)
//
// The kill workloads run pooled with heartbeat/peer timeout 100/500 ms, 0 (off)/500 ms and the defaults
// 1,000/3,000 ms, and per-message, which learns of a dead peer only when it sends to it: there, one
// message goes to the server right after the kill ("after_kill": "send"). The heartbeat cost is
// measured side by side: each run measures every setting (off, the defaults, 100/500 ms), starting from
// a different one each run; "min" and "max" are the smallest and largest ratio of one run's pair.
//
//   bench_faults [--runs R] [--only WORKLOAD] [--pending N] [--scale F] [--list]
//   bench_faults --serve TRANSPORT HEARTBEAT_MS PEER_TIMEOUT_MS   (the child)
//
// --only takes a workload's name or the start of names up to a dash ("heartbeat-cost": both);
// --scale multiplies the message counts of the heartbeat cost (20,000 round trips, 1,000,000 messages).
//
// A workload is an entry of the table in main(): a name, a line of description, and a function that
// measures and prints. The failure scenarios share run_failure (a kill_plan says what to do).
#include "support.hpp"

#include <coactor/coactor.hpp>
#include <coactor/peer_stats.hpp>
#include <coactor/transports/tcp_per_message.hpp>
#include <coactor/transports/tcp_pooled.hpp>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace bench {

using milliseconds_d = std::chrono::duration<double, std::milli>;

// ---- output ----

/// One JSON object on one line, built field by field (keys and text values are plain ASCII here).
class json_line {
 public:
  json_line& text(std::string_view key, std::string_view value) {
    return raw(key, "\"" + std::string(value) + "\"");
  }
  json_line& number(std::string_view key, double value, int decimals = 2) {
    char buffer[64];
    std::snprintf(buffer, sizeof buffer, "%.*f", decimals, value);
    return raw(key, buffer);
  }
  json_line& integer(std::string_view key, long long value) { return raw(key, std::to_string(value)); }
  void print() const {
    std::printf("{%s}\n", body_.c_str());
    std::fflush(stdout);
  }

 private:
  json_line& raw(std::string_view key, const std::string& value) {
    if (!body_.empty()) body_ += ", ";
    body_ += "\"" + std::string(key) + "\": " + value;
    return *this;
  }
  std::string body_;
};

// ---- the transport under test, on both sides ----

struct setup {
  std::string transport = "pooled";  // or "per-message"
  int heartbeat_ms = 1000;           // pooled: tcp_pooled_options::heartbeat_interval (0: off)
  int peer_timeout_ms = 3000;        // pooled: tcp_pooled_options::peer_timeout

  bool pooled() const { return transport == "pooled"; }

  std::unique_ptr<coactor::transport> make() const {
    if (!pooled()) return std::make_unique<coactor::tcp_per_message_transport>();
    return std::make_unique<coactor::tcp_pooled_transport>(
        coactor::tcp_pooled_options{.heartbeat_interval = std::chrono::milliseconds(heartbeat_ms),
                                    .peer_timeout = std::chrono::milliseconds(peer_timeout_ms)});
  }
  std::vector<std::string> serve_args() const {
    return {"--serve", transport, std::to_string(heartbeat_ms), std::to_string(peer_timeout_ms)};
  }
  void describe(json_line& line) const {
    if (pooled()) {
      line.integer("heartbeat_ms", heartbeat_ms).integer("peer_timeout_ms", peer_timeout_ms);
    } else {
      const coactor::tcp_per_message_options defaults;
      const auto ms = [](coactor::duration d) { return std::chrono::duration_cast<std::chrono::milliseconds>(d).count(); };
      line.integer("connect_timeout_ms", ms(defaults.connect_timeout)).integer("ack_timeout_ms", ms(defaults.ack_timeout));
    }
  }
};

const setup fast_pooled{"pooled", 100, 500};
const setup pooled_without_heartbeats{"pooled", 0, 500};
const setup default_pooled{"pooled", 1000, 3000};
const setup per_message{"per-message", 0, 0};

// ---- the server side: "holder" keeps the requests it gets, unanswered ----

/// A request to "holder": answered with the number of requests it holds, once it holds at least this many.
struct held {
  std::uint64_t at_least;
};

coactor::process holder(coactor::context self) {
  std::vector<coactor::message> kept;                              // requests never answered
  std::vector<std::pair<std::uint64_t, coactor::message>> asking;  // held{n} queries not answered yet
  for (;;) {
    coactor::message m = co_await self.receive();
    if (const held* q = m.get_if<held>()) {
      const std::uint64_t at_least = q->at_least;
      asking.emplace_back(at_least, std::move(m));
    } else if (m.is<coactor::bytes>()) {
      kept.push_back(std::move(m));
    }
    std::erase_if(asking, [&](auto& a) {
      if (kept.size() < a.first) return false;
      self.reply(a.second, static_cast<std::uint64_t>(kept.size()));
      return true;
    });
  }
}

int serve(int argc, char** argv) {
  if (argc != 5) return 2;
  const setup s{argv[2], std::atoi(argv[3]), std::atoi(argv[4])};
  return serve_node(s.make(), coactor::codec::binary, [](coactor::node& n) { n.register_name("holder", n.spawn(holder)).value(); });
}

// ---- the failure scenarios ----

/// What is done to the server process, and what is watched from here.
struct kill_plan {
  int signal = SIGKILL;       // SIGKILL: it dies and the kernel closes its sockets; SIGSTOP: it freezes
  bool monitor = true;        // a process here monitors "echo" there, and waits for its down message
  std::uint64_t pending = 0;  // requests to "holder" there, outstanding at the signal
};

/// Milliseconds from the signal; -1 for what was not asked for.
struct kill_outcome {
  double down_ms = -1;
  double first_failed_ms = -1, last_failed_ms = -1;
};

/// Sent to the driving process by each requester when its request ended.
struct request_ended {};

kill_outcome run_failure(const std::string& program, const setup& s, const kill_plan& plan) {
  child_process server(program, s.serve_args());
  kill_outcome out;
  std::string failure;  // what went wrong, if anything: thrown once the client node has stopped

  struct pending_state {
    std::mutex mutex;
    std::vector<clock_type::time_point> ended;
    std::map<std::string, int> errors;  // how the requests ended, by error (node_down expected)
  } pending;

  {
    coactor::node client({.name = "faults-client", .threads = 1, .transport = s.make(), .flush_timeout = 5s});
    client.listen("127.0.0.1:0").value();
    client.on_error({});  // what the kill loses is reported here: expected
    client.spawn([&](coactor::context self) -> coactor::process {
      const coactor::process_name echo_name{server.address, "echo"}, holder_name{server.address, "holder"};
      auto echo_reply = co_await self.request(echo_name, payload(), 10s);
      auto holder_reply = co_await self.request(holder_name, held{0}, 10s);
      if (!echo_reply || !holder_reply) {
        failure = "the server does not answer";
        co_return;
      }
      const coactor::pid echo_pid = echo_reply->sender(), holder_pid = holder_reply->sender();
      if (plan.monitor) self.monitor(echo_pid);

      const coactor::pid driver = self.pid();
      for (std::uint64_t i = 0; i < plan.pending; ++i)
        self.spawn([&pending, holder_pid, driver](coactor::context me) -> coactor::process {
          auto r = co_await me.request<coactor::bytes>(holder_pid, payload(), 120s);
          const auto at = clock_type::now();
          {
            std::lock_guard lock(pending.mutex);
            pending.ended.push_back(at);
            ++pending.errors[r ? "answered" : r.error() == coactor::errc::node_down ? "node_down" : r.error().message()];
          }
          me.send(driver, request_ended{});
        });
      // Every request is held there, and the monitor is set up there (the transports keep the order of
      // frames to one node), when this is answered.
      auto ready = co_await self.request<std::uint64_t>(holder_pid, held{plan.pending}, 30s);
      if (!ready) {
        failure = "the requests did not all arrive: " + ready.error().message();
        co_return;
      }

      const auto start = clock_type::now();
      server.signal(plan.signal);
      if (!s.pooled()) self.send(echo_pid, payload());  // per-message finds a peer gone only by sending to it

      if (plan.monitor) {
        auto d = co_await self.receive<coactor::down>(60s);
        if (!d) {
          failure = "no down message within 60 s";
          co_return;
        }
        out.down_ms = milliseconds_d(clock_type::now() - start).count();
        if ((*d)->reason.kind != coactor::exit_kind::noconnection) failure = "down with " + (*d)->reason.to_string();
      }
      for (std::uint64_t i = 0; i < plan.pending; ++i)
        if (!co_await self.receive<request_ended>(120s)) {
          failure = "a pending request did not end within 120 s";
          co_return;
        }
      if (plan.pending > 0) {
        std::lock_guard lock(pending.mutex);
        const auto [first, last] = std::minmax_element(pending.ended.begin(), pending.ended.end());
        out.first_failed_ms = milliseconds_d(*first - start).count();
        out.last_failed_ms = milliseconds_d(*last - start).count();
        if (pending.errors["node_down"] != static_cast<int>(plan.pending)) {
          failure = "the pending requests ended otherwise than node_down:";
          for (const auto& [what, count] : pending.errors)
            if (count) failure += " " + std::to_string(count) + " " + what + ";";
        }
      }
    });
    client.run();
  }
  server.signal(SIGKILL);  // a stopped one too (and ~child_process would, if this threw)
  server.reap();
  if (!failure.empty()) throw std::runtime_error(s.transport + ": " + failure);
  return out;
}

// ---- the heartbeat cost ----

figure run_pooled(const std::string& program, const setup& s, const std::string& workload, std::uint64_t n) {
  child_process server(program, s.serve_args());
  coactor::node client({.name = "faults-client", .threads = 1, .transport = s.make()});
  client.listen("127.0.0.1:0").value();
  return measure(client, server.address, workload, n);
}

// ---- the driver ----

struct options {
  std::string program;
  int runs = 5;
  std::uint64_t pending = 100;
  double scale = 1.0;
};

void print_spread(const std::string& workload, const setup& s, const std::vector<double>& runs, const char* unit,
                  const std::function<void(json_line&)>& more = {}) {
  const spread m = spread_of(runs);
  json_line line;
  line.text("workload", workload).text("transport", s.transport).number("value", m.median).text("unit", unit);
  line.number("min", m.min).number("max", m.max).integer("runs", static_cast<long long>(runs.size()));
  s.describe(line);
  if (more) more(line);
  line.print();
}

void detect(const options& o, const std::string& workload, int signal, const std::vector<setup>& setups) {
  for (const setup& s : setups) {
    std::vector<double> v;
    for (int i = 0; i < o.runs; ++i) v.push_back(run_failure(o.program, s, {.signal = signal, .monitor = true}).down_ms);
    print_spread(workload, s, v, "ms", [&](json_line& l) {
      if (!s.pooled()) l.text("after_kill", "send");
    });
  }
}

void fail_pending(const options& o) {
  for (const setup& s : {fast_pooled, pooled_without_heartbeats, default_pooled, per_message}) {
    std::vector<double> last, first;
    for (int i = 0; i < o.runs; ++i) {
      const kill_outcome k = run_failure(o.program, s, {.signal = SIGKILL, .monitor = false, .pending = o.pending});
      last.push_back(k.last_failed_ms);
      first.push_back(k.first_failed_ms);
    }
    print_spread("fail-pending", s, last, "ms", [&](json_line& l) {
      l.integer("pending", static_cast<long long>(o.pending)).number("first", spread_of(first).median);
      if (!s.pooled()) l.text("after_kill", "send");
    });
  }
}

void heartbeat_cost(const options& o, const std::string& workload, const std::string& figure_name) {
  const std::uint64_t n = std::max<std::uint64_t>(1, static_cast<std::uint64_t>((figure_name == "remote-rtt" ? 20000 : 1000000) * o.scale));
  const setup off{"pooled", 0, 3000};
  const std::vector<setup> settings{off, default_pooled, fast_pooled};
  std::vector<std::vector<double>> values(settings.size());
  for (int run = 0; run < o.runs; ++run)
    for (std::size_t k = 0; k < settings.size(); ++k) {
      const std::size_t which = (k + static_cast<std::size_t>(run)) % settings.size();  // each run starts elsewhere
      values[which].push_back(run_pooled(o.program, settings[which], figure_name, n).value);
    }
  const spread without = spread_of(values[0]);
  const bool rtt = figure_name == "remote-rtt";
  for (std::size_t k = 1; k < settings.size(); ++k) {
    const spread with = spread_of(values[k]);
    std::vector<double> paired;
    for (int run = 0; run < o.runs; ++run) paired.push_back(values[k][run] / values[0][run]);
    const spread ratios = spread_of(paired);
    json_line line;
    line.text("workload", workload).text("transport", "pooled").text("codec", "binary");
    line.integer("payload", payload_bytes).number("value", with.median / without.median, 3).text("unit", "ratio");
    line.number("min", ratios.min, 3).number("max", ratios.max, 3).integer("runs", o.runs).integer("n", static_cast<long long>(n));
    settings[k].describe(line);
    line.number("on", with.median).number("off", without.median).text("figure_unit", rtt ? "us" : "messages/s");
    line.number("on_min", with.min).number("on_max", with.max).number("off_min", without.min).number("off_max", without.max);
    line.print();
  }
}

// ---- reconnect-loss: connections broken under a stream, in this process ----

/// Counts numbered messages, noting those that come again or skip ahead; answers a finish request.
struct numbered {
  std::uint64_t n;
};
struct loss_count {
  std::atomic<std::uint64_t> received{0};
  std::atomic<std::uint64_t> duplicated{0};  // a number at or below the last one
  std::atomic<std::uint64_t> skipped{0};     // numbers jumped over (lost)
};

coactor::process count_numbered(coactor::context self, std::shared_ptr<loss_count> c) {
  std::uint64_t next = 0;
  for (;;) {
    coactor::message m = co_await self.receive();
    if (const numbered* x = m.get_if<numbered>()) {
      if (x->n < next) {
        c->duplicated.fetch_add(1);
      } else {
        c->skipped.fetch_add(x->n - next);
        next = x->n + 1;
      }
      c->received.fetch_add(1, std::memory_order_relaxed);
    } else if (m.is<finish>()) {
      self.reply(m, c->received.load());
      co_return;
    }
  }
}

/// Two tcp_pooled nodes of this process on 127.0.0.1, `n` messages from one to the other, the connection
/// between them reset `breaks` times (tcp::transport::break_connections, alternately from each side)
/// while the stream runs. Lost or duplicated: what the receiver saw skipped or again, plus what the
/// sender's counts do not account for.
void reconnect_loss(const options& o) {
  const std::uint64_t n = std::max<std::uint64_t>(1, static_cast<std::uint64_t>(1000000 * o.scale));
  constexpr int breaks = 10;
  std::vector<double> wrong, seconds;
  coactor::peer_stats last{};
  for (int run = 0; run < o.runs; ++run) {
    auto st = std::make_unique<coactor::tcp_pooled_transport>(), ct = std::make_unique<coactor::tcp_pooled_transport>();
    coactor::tcp_pooled_transport* sides[2] = {ct.get(), st.get()};
    coactor::node server({.name = "server", .threads = 1, .transport = std::move(st)});
    coactor::node client({.name = "client", .threads = 1, .transport = std::move(ct)});
    const std::string address = server.listen("127.0.0.1:0").value().to_string();
    client.listen("127.0.0.1:0").value();
    auto counted = std::make_shared<loss_count>();
    server.register_name("counter", server.spawn([counted](coactor::context self) { return count_numbered(self, counted); })).value();
    std::atomic<bool> finished{false};
    client.spawn([&, n](coactor::context self) -> coactor::process {
      const coactor::process_name to{address, "counter"};
      for (std::uint64_t i = 0; i < n; ++i) {
        self.send(to, numbered{i});
        if (i % 1024 == 1023) co_await self.yield_now();
      }
      static_cast<void>(co_await self.request<std::uint64_t>(to, finish{n}, std::chrono::seconds(120)));
      finished = true;
      static_cast<void>(co_await self.receive<finish>());  // the nodes run on while the counts settle
    });
    const auto start = std::chrono::steady_clock::now();
    std::thread server_thread([&] { server.run(); }), client_thread([&] { client.run(); });
    for (int b = 1; b <= breaks; ++b) {
      const std::uint64_t mark = n * static_cast<std::uint64_t>(b) / (breaks + 1);
      while (counted->received.load() < mark && std::chrono::steady_clock::now() - start < std::chrono::seconds(120))
        std::this_thread::sleep_for(std::chrono::microseconds(200));
      sides[b % 2]->break_connections();
    }
    while (!finished.load() && std::chrono::steady_clock::now() - start < std::chrono::seconds(180))
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    seconds.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    auto for_server = [&] {
      for (const coactor::peer_stats& p : client.peers())
        if (p.peer.incarnation == server.incarnation()) return p;
      return coactor::peer_stats{};
    };
    for (int i = 0; i < 1000 && for_server().in_flight() != 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    last = for_server();
    client.stop();
    server.stop();
    client_thread.join();
    server_thread.join();
    // Lost: numbers skipped, or messages neither delivered nor reported failed; duplicated: seen again.
    const std::uint64_t unaccounted = last.sent - std::min(last.sent, last.delivered + last.failed);
    wrong.push_back(static_cast<double>(counted->skipped.load() + counted->duplicated.load() + unaccounted +
                                        (finished.load() ? 0 : n)));
  }
  const spread w = spread_of(wrong), t = spread_of(seconds);
  json_line line;
  line.text("workload", "reconnect-loss").text("transport", "pooled").number("value", w.max, 0).text("unit", "messages");
  line.integer("runs", o.runs).integer("n", static_cast<long long>(n)).integer("breaks", breaks);
  line.integer("sent", static_cast<long long>(last.sent)).integer("delivered", static_cast<long long>(last.delivered));
  line.integer("reported_failed", static_cast<long long>(last.failed)).number("seconds", t.median, 3);
  line.print();
}

struct workload {
  std::string name;
  std::string description;
  std::function<void(const options&)> run;
};

bool selected(const std::string& name, const std::string& only) {
  return only.empty() || name == only || (name.size() > only.size() && name.compare(0, only.size(), only) == 0 && name[only.size()] == '-');
}

}  // namespace bench

int main(int argc, char** argv) {
  using namespace bench;
  if (argc >= 2 && std::strcmp(argv[1], "--serve") == 0) return serve(argc, argv);

  const std::vector<workload> workloads{
      {"detect-kill", "ms from kill -9 of the peer process to a monitor's down message",
       [](const options& o) { detect(o, "detect-kill", SIGKILL, {fast_pooled, pooled_without_heartbeats, default_pooled, per_message}); }},
      {"fail-pending", "ms from kill -9 of the peer process to the last of the requests it held failing (node_down)",
       [](const options& o) { fail_pending(o); }},
      {"detect-stop", "ms from SIGSTOP of the peer process to a monitor's down message (heartbeats only)",
       [](const options& o) { detect(o, "detect-stop", SIGSTOP, {fast_pooled, default_pooled}); }},
      {"reconnect-loss", "messages lost or duplicated when a pooled connection is reset 10 times during 1,000,000",
       [](const options& o) { reconnect_loss(o); }},
      {"heartbeat-cost-rtt", "pooled round-trip time, heartbeats on / off, alternating in one run",
       [](const options& o) { heartbeat_cost(o, "heartbeat-cost-rtt", "remote-rtt"); }},
      {"heartbeat-cost-throughput", "pooled one-way throughput, heartbeats on / off, alternating in one run",
       [](const options& o) { heartbeat_cost(o, "heartbeat-cost-throughput", "remote-throughput"); }},
  };

  options o;
  std::string only;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--runs" && i + 1 < argc) {
      o.runs = std::max(1, std::atoi(argv[++i]));
    } else if (a == "--only" && i + 1 < argc) {
      only = argv[++i];
    } else if (a == "--pending" && i + 1 < argc) {
      o.pending = static_cast<std::uint64_t>(std::max(1, std::atoi(argv[++i])));
    } else if (a == "--scale" && i + 1 < argc) {
      o.scale = std::stod(argv[++i]);
    } else if (a == "--list") {
      for (const workload& w : workloads) std::printf("%-26s %s\n", w.name.c_str(), w.description.c_str());
      return 0;
    } else {
      std::fprintf(stderr, "usage: %s [--runs R] [--only WORKLOAD] [--pending N] [--scale F] [--list]\n", argv[0]);
      return 2;
    }
  }
  if (std::none_of(workloads.begin(), workloads.end(), [&](const workload& w) { return selected(w.name, only); })) {
    std::fprintf(stderr, "no workload named %s (--list names them)\n", only.c_str());
    return 2;
  }
  o.program = self_path();
  try {
    for (const workload& w : workloads)
      if (selected(w.name, only)) w.run(o);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_faults: %s\n", e.what());
    return 1;
  }
  return 0;
}
