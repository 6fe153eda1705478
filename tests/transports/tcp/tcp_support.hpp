// Support for the TCP transport tests: the transports under test as types (for TEMPLATE_TEST_CASE), the
// messages, a server process body, nodes that run on threads of their own, and raw POSIX sockets for
// poking at a node from outside.
//
// Everything runs on 127.0.0.1 with ports picked by the kernel (port 0), never on fixed ports.
//
// Made to be reused by tests that run nodes in several OS processes: the messages and `serve` are all a
// node program needs to host the same server (register it as "server"), and test_node only needs a
// transport and a name.
//
// Catch2 assertions are not thread-safe: code running on a node's thread records what it saw (under the
// `outcome` mutex or in atomics), and the test checks after the node's run() returned.
#pragma once

#include "../slowdown.hpp"

#include <coactor/coactor.hpp>
#include <coactor/transports/tcp_per_message.hpp>
#include <coactor/transports/tcp_pooled.hpp>
#include <coactor/wire/handshake.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

extern "C" char** environ;

namespace tcp_test {

using namespace coactor;
using namespace std::chrono_literals;

// ---- how much slower this build is (counts and time limits scale by it) ----

using transport_test::slowdown;

// ---- the transports under test ----

struct pooled {
  static constexpr const char* name = "tcp_pooled";
  static constexpr const char* peer_arg = "pooled";  ///< tcp_test_peer's argument
  static constexpr bool replies_to_non_listening = true;
  static std::unique_ptr<transport> make() { return std::make_unique<tcp_pooled_transport>(); }
  static std::unique_ptr<transport> make_fast_failing() {
    tcp_pooled_options o;
    o.connect_timeout = 1s;
    return std::make_unique<tcp_pooled_transport>(o);
  }
};

struct per_message {
  static constexpr const char* name = "tcp_per_message";
  static constexpr const char* peer_arg = "per_message";
  static constexpr bool replies_to_non_listening = false;
  static std::unique_ptr<transport> make() { return std::make_unique<tcp_per_message_transport>(); }
  static std::unique_ptr<transport> make_fast_failing() {
    tcp_per_message_options o;
    o.connect_timeout = 1s;
    o.ack_timeout = 1s;
    return std::make_unique<tcp_per_message_transport>(o);
  }
};

// ---- messages ----

struct ping {
  int n = 0;
  std::string text;
  pid reply_to;  ///< gets a pong{n + 1}
};
struct pong {
  int n = 0;
};
struct seq {
  std::int64_t n = 0;
};
struct count_query {
  int unused = 0;
};
struct count_reply {
  std::int64_t received = 0;
  bool in_order = true;
};
struct blob {
  std::string data;
};
struct dead_pid_query {
  int unused = 0;
};
struct refuse {  ///< the server answers the request with error(errc::rejected, why)
  std::string why;
};
struct local_only {  ///< no wire form (a raw pointer): it cannot leave its node
  int* p = nullptr;
};
struct forward_ping {  ///< the server passes `inner` on to `to` (a process on a third node)
  process_name to;
  ping inner;
};
struct hold {  ///< a request the server keeps and never answers; it tells `tell` (if not null) it holds it
  pid tell;
};
struct held {  ///< the server's note to hold::tell: it now holds `count` requests unanswered
  int count = 0;
};
struct quit {
  int unused = 0;
};

/// The server every test talks to (registered as "server"): pings get a pong to their reply_to and, if
/// a request, the reply "pong:<text>"; seq messages are counted (and checked for order), count_query
/// answers the count; a blob request is echoed; dead_pid_query answers the pid of a process that has
/// ended; refuse is answered with an error; forward_ping passes its ping on; a hold request is kept
/// unanswered (its requester waits until its timeout, or until it learns this node is gone); quit ends it.
inline process serve(context self) {
  std::int64_t received = 0;
  std::int64_t last = -1;
  bool in_order = true;
  std::vector<message> holding;
  for (;;) {
    message m = co_await self.receive();
    if (auto* s = m.get_if<seq>()) {
      if (s->n != last + 1) in_order = false;
      last = s->n;
      ++received;
    } else if (auto* p = m.get_if<ping>()) {
      if (!p->reply_to.is_null()) self.send(p->reply_to, pong{p->n + 1});
      if (m.is_request()) self.reply(m, "pong:" + p->text);
    } else if (m.is<count_query>()) {
      self.reply(m, count_reply{received, in_order});
    } else if (auto* b = m.get_if<blob>()) {
      self.reply(m, *b);
    } else if (m.is<dead_pid_query>()) {
      pid gone = self.spawn([](context) -> process { co_return; });
      co_await self.sleep(20ms);
      self.reply(m, gone);
    } else if (auto* r = m.get_if<refuse>()) {
      self.reply(m, error(errc::rejected, r->why));
    } else if (auto* f = m.get_if<forward_ping>()) {
      self.send(f->to, f->inner);
    } else if (auto* h = m.get_if<hold>()) {
      const pid tell = h->tell;
      holding.push_back(std::move(m));
      if (!tell.is_null()) self.send(tell, held{static_cast<int>(holding.size())});
    } else if (m.is<quit>()) {
      co_return;
    }
  }
}

// ---- what a node reports ----

class error_log {
 public:
  struct entry {
    std::error_code code;
    std::string detail;
    pid who;
  };

  void add(const error& e, const pid& who = {}) {
    std::lock_guard lock(mutex_);
    entries_.push_back({e.code(), e.detail(), who});
  }
  std::vector<entry> entries() const {
    std::lock_guard lock(mutex_);
    return entries_;
  }
  std::size_t count(errc code) const {
    std::size_t n = 0;
    for (auto& e : entries())
      if (e.code == make_error_code(code)) ++n;
    return n;
  }
  std::size_t size() const { return entries().size(); }
  std::string dump() const {
    std::string out;
    for (auto& e : entries()) out += "  [" + e.code.message() + "] " + e.detail + "\n";
    return out;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<entry> entries_;
};

// ---- a node on a thread of its own ----

/// A node with a single-threaded thread_pool of its own; start() runs it on a std::thread. Its error log
/// is shared with the node's error hook, so it can be read after the node is gone (the hook is called
/// while the node shuts down).
class test_node {
 public:
  test_node(std::string name, std::unique_ptr<transport> t, codec format = codec::binary)
      : errors_(std::make_shared<error_log>()),
        node_({.name = std::move(name), .threads = 1, .transport = std::move(t), .format = format}) {
    node_.on_error([log = errors_](const error& e, const pid& who) { log->add(e, who); });
  }
  ~test_node() { stop(); }
  test_node(const test_node&) = delete;
  test_node& operator=(const test_node&) = delete;

  coactor::node& node() noexcept { return node_; }
  coactor::node* operator->() noexcept { return &node_; }
  const error_log& errors() const noexcept { return *errors_; }
  std::shared_ptr<const error_log> shared_errors() const noexcept { return errors_; }

  /// Listens on `host`, a port picked by the kernel; returns the address.
  std::string listen(const std::string& host = "127.0.0.1") {
    auto r = node_.listen(host + ":0");
    if (!r) throw std::runtime_error("listen failed: " + r.error().message());
    return r->to_string();
  }

  /// Spawns `serve` and registers it as "server"; returns its process_name.
  process_name serve_here() {
    pid server = node_.spawn(serve);
    if (auto r = node_.register_name("server", server); !r) throw std::runtime_error(r.error().message());
    return process_name{node_.address(), "server"};
  }

  /// listen(), serve_here() and start(), for a server that only answers: returns its address.
  std::string serve_from_here() {
    std::string address = listen();
    serve_here();
    start();
    return address;
  }

  /// Runs the node on a thread of its own until it runs out of work or stop(). Can be called again
  /// once run() returned (after spawning more).
  void start() {
    if (thread_.joinable()) thread_.join();
    {
      std::lock_guard lock(mutex_);
      done_ = false;
    }
    thread_ = std::thread([this] {
      node_.run();
      {
        std::lock_guard lock(mutex_);
        done_ = true;
      }
      done_cv_.notify_all();
    });
  }
  /// Waits until run() returned on its own; false after `limit`.
  bool wait(std::chrono::milliseconds limit) {
    std::unique_lock lock(mutex_);
    return done_cv_.wait_for(lock, limit, [&] { return done_; });
  }
  /// Stops the node and joins its thread (idempotent).
  void stop() {
    if (!thread_.joinable()) return;
    // A stop() that lands before run() has started is forgotten by run(): repeat until it returns.
    while (!wait(50ms)) node_.stop();
    thread_.join();
  }

 private:
  std::shared_ptr<error_log> errors_;
  coactor::node node_;
  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable done_cv_;
  bool done_ = false;
};

/// The kinds of the frames after the preamble in what a node wrote to a raw socket (its hello first), as
/// far as they are complete.
inline std::vector<wire::frame_kind> kinds_in(std::string_view bytes) {
  std::vector<wire::frame_kind> kinds;
  if (bytes.size() < wire::preamble_bytes) return kinds;
  bytes.remove_prefix(wire::preamble_bytes);
  for (;;) {
    auto size = wire::frame_size(bytes);
    if (!size || *size == 0 || *size > bytes.size()) break;
    kinds.push_back(static_cast<wire::frame_kind>(bytes[wire::length_bytes]));
    bytes.remove_prefix(*size);
  }
  return kinds;
}

/// Waits (polling) until `done()`, at most `limit`; returns done().
template <class F>
bool wait_until(F done, std::chrono::steady_clock::duration limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

/// Results recorded by processes, read by the test after the node stopped.
struct outcome {
  std::mutex mutex;
  std::vector<std::string> notes;
  void note(std::string s) {
    std::lock_guard lock(mutex);
    notes.push_back(std::move(s));
  }
};

// ---- raw sockets ----

/// An address on 127.0.0.1 where nothing listens (a port the kernel just gave out and took back).
/// What stream_until_gone's process saw: the counts answered, and the failure that ended it.
struct stream_outcome {
  std::atomic<int> answered{0};
  std::optional<error> last_failure;
};

/// Spawns on `client` a process that streams `seq`s to `name` (asking for the count every tenth) until
/// it is told the node is unreachable; then it sends three more one-way messages, which must be
/// reported as lost, and ends. For tests that make the node go away mid-stream.
inline void stream_until_gone(test_node& client, const process_name& name, stream_outcome& out) {
  client->spawn([&out, name](context self) -> process {
    for (std::int64_t i = 0; i < 1'000'000; ++i) {
      self.send(name, seq{i});
      if (i % 10 != 9) continue;
      auto r = co_await self.request<count_reply>(name, count_query{}, 2s);
      if (r) {
        out.answered.fetch_add(1);
        continue;
      }
      out.last_failure = r.error();
      if (r.error() != errc::unreachable) continue;
      // The node is gone, and we were told. One-way messages to it now are reported as lost.
      for (int k = 0; k < 3; ++k) self.send(name, seq{-1});
      co_return;
    }
  });
}

inline std::string closed_address() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  socklen_t len = sizeof a;
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0)
    throw std::runtime_error("closed_address: cannot bind");
  ::close(fd);
  return "127.0.0.1:" + std::to_string(ntohs(a.sin_port));
}

inline std::uint16_t port_of(const std::string& address) {
  return static_cast<std::uint16_t>(std::stoi(address.substr(address.rfind(':') + 1)));
}

/// A blocking TCP socket with a receive timeout, for talking to a node by hand.
class raw_socket {
 public:
  raw_socket() = default;
  ~raw_socket() {
    if (fd_ >= 0) ::close(fd_);
  }
  raw_socket(const raw_socket&) = delete;
  raw_socket& operator=(const raw_socket&) = delete;

  /// Listens on 127.0.0.1, a free port, and never accepts: connects to it succeed (the kernel's
  /// backlog), and then nothing answers.
  std::string listen_silently() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd_, 16) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) != 0)
      throw std::runtime_error("listen_silently failed");
    return "127.0.0.1:" + std::to_string(ntohs(a.sin_port));
  }

  bool connect(const std::string& address) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    timeval tv{5, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(port_of(address));
    return ::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  }
  void write(std::string_view bytes) {
    while (!bytes.empty()) {
      const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n <= 0) return;
      bytes.remove_prefix(static_cast<std::size_t>(n));
    }
  }
  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  /// Appends what arrives next to `out`; false at EOF, an error or the receive timeout.
  bool read_some(std::string& out) {
    char buf[4096];
    const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n <= 0) return false;
    out.append(buf, static_cast<std::size_t>(n));
    return true;
  }
  /// Appends what arrives within `limit` to `out`: the number of bytes, 0 at EOF (or an error), -1 if
  /// nothing came.
  int read_for(std::string& out, std::chrono::milliseconds limit) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(limit.count())) <= 0) return -1;
    char buf[4096];
    const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n <= 0) return 0;
    out.append(buf, static_cast<std::size_t>(n));
    return static_cast<int>(n);
  }
  /// Everything until EOF, an error or the receive timeout.
  std::string read_all() {
    std::string out;
    while (read_some(out)) {
    }
    return out;
  }

 private:
  int fd_ = -1;
};

// ---- a node in another OS process ----

/// A tcp_test_peer (tcp_peer.cpp) running as a child process: a node serving `serve` as "server".
/// Killed, if still running, when this object goes.
class peer_process {
 public:
  peer_process(std::string program, std::string arg) : peer_process(std::move(program), std::vector<std::string>{std::move(arg)}) {}
  /// With more arguments (tcp_peer.cpp says which).
  peer_process(std::string program, std::vector<std::string> args) {
    int out[2];
    if (::pipe(out) != 0) throw std::runtime_error("peer_process: pipe");
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out[1], 1);
    posix_spawn_file_actions_addclose(&actions, out[0]);
    posix_spawn_file_actions_addclose(&actions, out[1]);
    std::vector<char*> argv{program.data()};
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    const int failed = posix_spawn(&pid_, program.c_str(), &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    ::close(out[1]);
    if (failed) {
      ::close(out[0]);
      throw std::runtime_error("peer_process: cannot start " + program);
    }
    // Its first line is its address.
    const auto deadline = std::chrono::steady_clock::now() + 10s * slowdown;
    char c;
    while (std::chrono::steady_clock::now() < deadline) {
      pollfd p{out[0], POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      if (::read(out[0], &c, 1) != 1 || c == '\n') break;
      address_ += c;
    }
    ::close(out[0]);
    if (address_.empty()) {
      // The destructor does not run for an object whose constructor throws: the child goes here.
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
      throw std::runtime_error("peer_process: " + program + " did not say its address");
    }
  }
  ~peer_process() {
    if (pid_ > 0) {
      ::kill(pid_, SIGCONT);
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  peer_process(const peer_process&) = delete;
  peer_process& operator=(const peer_process&) = delete;

  const std::string& address() const noexcept { return address_; }

  /// Its exit status once it exited; -1 if it is still running after `limit`, -2 if killed by a signal.
  int wait(std::chrono::milliseconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    for (;;) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : -2;
      }
      if (std::chrono::steady_clock::now() >= deadline) return -1;
      std::this_thread::sleep_for(10ms);
    }
  }
  /// Stops it (SIGSTOP: its sockets stay open, and it says nothing) or lets it go on (SIGCONT).
  void pause() { ::kill(pid_, SIGSTOP); }
  void resume() { ::kill(pid_, SIGCONT); }

  /// Kills it at once (SIGKILL: no shutdown, its sockets are closed by the kernel).
  void kill() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }

 private:
  pid_t pid_ = -1;
  std::string address_;
};

/// A loopback address of its own for a server whose connections a test counts: sockets of other tests
/// (on 127.0.0.1) never have it at either end, even when the kernel gives one of them, as its ephemeral
/// port, the number the server listens on.
inline constexpr const char* counted_host = "127.0.0.2";

/// TCP sockets (IPv4) in `state` (hex, as /proc/net/tcp writes it: "01" established, "06" TIME_WAIT)
/// with the endpoint `address` ("127.0.0.2:41234") at either end.
///
/// /proc/net/tcp is no snapshot: it is generated a page at a time, so while other tests open and close
/// thousands of connections a read can show a socket twice or miss one. Sockets are counted once each
/// (by their two ends), and the largest count of three reads is taken.
inline int tcp_state_count(const std::string& address, const std::string& wanted) {
  in_addr ip{};
  if (::inet_pton(AF_INET, address.substr(0, address.rfind(':')).c_str(), &ip) != 1)
    throw std::runtime_error("tcp_state_count: not an IPv4 address: " + address);
  char endpoint[32];  // as /proc/net/tcp writes it: the address as a host-order hex word, then the port
  std::snprintf(endpoint, sizeof endpoint, "%08X:%04X", ip.s_addr, port_of(address));
  std::size_t most = 0;
  for (int read = 0; read < 3; ++read) {
    std::set<std::string> sockets;
    std::ifstream in("/proc/net/tcp");
    std::string line;
    std::getline(in, line);  // header
    while (std::getline(in, line)) {
      std::istringstream fields(line);
      std::string slot, local, remote, state;
      fields >> slot >> local >> remote >> state;
      if (state == wanted && (local == endpoint || remote == endpoint)) sockets.insert(local + ">" + remote);
    }
    most = std::max(most, sockets.size());
  }
  return static_cast<int>(most);
}

inline int time_wait_count(const std::string& address) { return tcp_state_count(address, "06"); }
inline int established_count(const std::string& address) { return tcp_state_count(address, "01"); }

}  // namespace tcp_test
