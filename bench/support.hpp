// What the benchmarks between OS processes share (bench/remote.cpp, bench/faults.cpp):
//
//   * the server side: a node with "echo" (answers requests with their payload) and "sink" (counts
//     one-way messages, answers a `finish` request with the count), listening on 127.0.0.1, port 0,
//     that prints its address and a newline on stdout and runs until killed (serve_node);
//   * child_process: this same program started again as such a server, reaped when done with;
//   * the client side of remote-rtt, remote-throughput and per-message-cost (measure);
//   * figures: a mean with p50 and p99 from latency samples, and the median of several runs.
#pragma once

#include <coactor/coactor.hpp>

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <numeric>
#include <string>
#include <utility>
#include <vector>

namespace bench {

using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

constexpr std::size_t payload_bytes = 64;

/// A request to "sink": answered with the number of messages it counted (waiting for `expected` of them
/// first, up to 10 s), and the count starts again from zero.
struct finish {
  std::uint64_t expected;
};

inline coactor::bytes payload() { return coactor::bytes(payload_bytes, std::byte{0x5a}); }

// ---- the server side ----

inline coactor::process echo(coactor::context self) {
  for (;;) {
    auto m = co_await self.receive<coactor::bytes>();
    self.reply(m, std::move(*m));
  }
}

inline coactor::process sink(coactor::context self) {
  std::uint64_t count = 0;
  for (;;) {
    coactor::message m = co_await self.receive();
    if (m.is<coactor::bytes>()) {
      ++count;
    } else if (const finish* f = m.get_if<finish>()) {
      // The finish request comes after the messages it counts (per-message connections may reorder: wait).
      while (count < f->expected) {
        auto more = co_await self.receive<coactor::bytes>(10s);
        if (!more) break;
        ++count;
      }
      self.reply(m, count);
      count = 0;
    }
  }
}

inline void start_server(coactor::node& n) {
  n.register_name("echo", n.spawn(echo)).value();
  n.register_name("sink", n.spawn(sink)).value();
}

/// The body of a child process: a node on `transport` with "echo" and "sink" (and what `more` adds),
/// listening on 127.0.0.1 at a free port; prints the address and a newline on stdout, then runs until
/// it is killed. Returns 1 if it cannot listen.
inline int serve_node(std::unique_ptr<coactor::transport> transport, coactor::codec format,
                      const std::function<void(coactor::node&)>& more = {}) {
  coactor::node n({.name = "bench-server", .threads = 1, .transport = std::move(transport), .format = format});
  auto address = n.listen("127.0.0.1:0");
  if (!address) return 1;
  n.on_error({});
  start_server(n);
  if (more) more(n);
  std::printf("%s\n", address->to_string().c_str());
  std::fflush(stdout);
  n.run();  // until killed
  return 0;
}

// ---- a child process ----

/// The path of this program (to start it again as a child).
inline std::string self_path() {
  char path[4096];
  const ssize_t len = readlink("/proc/self/exe", path, sizeof path - 1);
  if (len <= 0) {
    std::fprintf(stderr, "cannot read /proc/self/exe\n");
    std::exit(1);
  }
  return std::string(path, static_cast<std::size_t>(len));
}

/// This program started again with `args`; `address` is the first line it printed (a server's address).
/// Killed (SIGKILL: a stopped one too) and reaped when destroyed, unless reaped before; killed by the
/// kernel if this program ends first. Create it on the main thread (see the constructor).
class child_process {
 public:
  child_process(const std::string& program, std::vector<std::string> args) {
    int out[2];
    if (pipe2(out, O_CLOEXEC) != 0) std::abort();
    const pid_t parent = getpid();
    pid_ = fork();
    if (pid_ < 0) std::abort();
    if (pid_ == 0) {
      // Killed if this program ends without reaping it (an abort: no destructor runs). The signal goes
      // when the forking thread ends: fork from the main thread.
      if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent) _exit(126);
      dup2(out[1], STDOUT_FILENO);  // the copy is not close-on-exec
      std::vector<char*> argv{const_cast<char*>(program.c_str())};
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      execv(program.c_str(), argv.data());
      _exit(127);
    }
    close(out[1]);
    char line[256];
    ssize_t n = 0;
    while (n < static_cast<ssize_t>(sizeof line) - 1 && read(out[0], line + n, 1) == 1 && line[n] != '\n') ++n;
    close(out[0]);
    address.assign(line, static_cast<std::size_t>(n));
    if (address.empty()) {
      std::fprintf(stderr, "the child process printed no address (exit status %d)\n", reap());
      std::abort();
    }
  }
  child_process(const child_process&) = delete;
  child_process& operator=(const child_process&) = delete;
  ~child_process() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      reap();
    }
  }

  /// Sends `signal` to the child (not reaped yet).
  void signal(int signal) const {
    if (pid_ > 0) ::kill(pid_, signal);
  }
  /// Waits for the child to end; returns its wait status (-1 if it was reaped already).
  int reap() {
    if (pid_ <= 0) return -1;
    int status = 0;
    while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    pid_ = -1;
    return status;
  }

  std::string address;

 private:
  pid_t pid_ = -1;
};

// ---- figures ----

struct figure {
  double value = 0, p50 = 0, p99 = 0;
  std::uint64_t n = 0;
};

inline double percentile(std::vector<double>& v, double p) {
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<std::size_t>(p * static_cast<double>(v.size())))];
}

inline figure latency_figure(std::vector<double> samples_us) {
  figure f;
  f.n = samples_us.size();
  f.value = std::accumulate(samples_us.begin(), samples_us.end(), 0.0) / static_cast<double>(f.n);
  f.p50 = percentile(samples_us, 0.50);
  f.p99 = percentile(samples_us, 0.99);
  return f;
}

/// The median of some runs' values (the upper one of an even count), with the smallest and the largest.
struct spread {
  double median = 0, min = 0, max = 0;
};

inline spread spread_of(std::vector<double> values) {
  if (values.empty()) return {};
  std::sort(values.begin(), values.end());
  return {values[values.size() / 2], values.front(), values.back()};
}

// ---- the client side ----

/// Runs one workload from a process of `client` (which must not run yet) against the server at
/// `server_address`, and returns its figure; the node's run() has returned when this does.
///   remote-rtt         n synchronous requests to "echo": mean µs, with p50 and p99
///   remote-throughput  n one-way messages to "sink", then a finish request: messages/s
///   per-message-cost   the same: µs per message
inline figure measure(coactor::node& client, const std::string& server_address, const std::string& workload,
                      std::uint64_t n) {
  figure result;
  client.spawn([&](coactor::context self) -> coactor::process {
    coactor::process_name echo_name{server_address, "echo"}, sink_name{server_address, "sink"};
    // Resolve names once: pids are what a busy client uses.
    auto first = co_await self.request(echo_name, payload(), 10s);
    if (!first) std::abort();
    const coactor::pid echo_pid = first->sender();
    if (workload == "remote-rtt") {
      std::vector<double> samples;
      samples.reserve(n);
      for (std::uint64_t i = 0; i < n; ++i) {
        const auto start = clock_type::now();
        auto r = co_await self.request<coactor::bytes>(echo_pid, payload(), 10s);
        if (!r || r->size() != payload_bytes) std::abort();
        samples.push_back(std::chrono::duration<double, std::micro>(clock_type::now() - start).count());
      }
      result = latency_figure(std::move(samples));
    } else {
      auto warm = co_await self.request(sink_name, finish{0}, 10s);
      if (!warm) std::abort();
      const coactor::pid sink_pid = warm->sender();  // the reply comes from the process itself
      const auto start = clock_type::now();
      for (std::uint64_t i = 0; i < n; ++i) {
        self.send(sink_pid, payload());
        if ((i & 1023) == 1023) co_await self.yield_now();  // let the transport's writes go out
      }
      auto counted = co_await self.request<std::uint64_t>(sink_pid, finish{n}, 120s);
      const double seconds = std::chrono::duration<double>(clock_type::now() - start).count();
      if (!counted || *counted != n) {
        std::fprintf(stderr, "sink counted %llu of %llu\n", counted ? static_cast<unsigned long long>(*counted) : 0ull,
                     static_cast<unsigned long long>(n));
        std::abort();
      }
      result.n = n;
      result.value = workload == "per-message-cost" ? seconds * 1e6 / static_cast<double>(n) : static_cast<double>(n) / seconds;
    }
  });
  client.run();
  return result;
}

}  // namespace bench
