// tcp_pooled between two nodes in network namespaces of their own, joined by a veth pair: the link between
// them is cut (its interface set down in one namespace), and the client's node declares the server's node
// down within peer_timeout (its monitor fires with noconnection, its node watcher gets node_down); the link
// is restored, and the two meet again (a new request is answered, node_up again). A killed process closes
// its connections (its kernel does); a cut link closes nothing, and only the heartbeats tell.
//
// The design, chosen for being simple and safe:
//   * The test makes two namespaces, coactor-netns-<pid>-a and -b, with `ip netns add`, and a veth pair
//     between them: veth-a (10.231.0.1/24) in a, veth-b (10.231.0.2/24) in b. These addresses exist only
//     in those two namespaces, and nothing else is up in them (not even lo): whatever the nodes send has
//     nowhere else to go. Nothing is ever created in the namespace the test started in.
//   * The server is a tcp_test_peer (../tcp/tcp_peer.cpp) started in b (spawned while the main thread is
//     in b), listening on 10.231.0.2. Commands meant for one namespace are spawned the same way: `ip -n`
//     and `ip netns exec` remount / first, which fails in a chroot.
//   * The client node runs in this process, in a: the main thread enters a (setns) before the node, its
//     threads and its sockets exist. A socket stays in the namespace of the thread that created it, and a
//     thread starts in the namespace of the thread that started it, so everything of the node's is in a
//     (checked before the node is made; the main thread goes back when the test ends). Because it moves
//     the main thread, this test is an executable of its own (test_netns, tests/CMakeLists.txt).
//   * Everything is undone in destructors, in reverse order, whatever assertion failed: the node stops,
//     the main thread goes back, the server is killed, every process left in the namespaces is killed,
//     and the namespaces are deleted (with them the veth pair).
//
// Where namespaces cannot be made (not root, no `ip`, EPERM in a container), the test says
// "netns test skipped: <why>" and ctest reports it skipped (SKIP_REGULAR_EXPRESSION). CI runs as root with
// CI=true: there it must run, and a reason to skip is a failure.
//
// Times are asserted with generous slack (sanitizer builds are slow, CI machines loaded): they say
// "detected by the heartbeats", never how fast.
#include "tcp/tcp_support.hpp"

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sched.h>
#include <sys/stat.h>

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <sstream>

using namespace tcp_test;

#ifndef COACTOR_TCP_TEST_PEER
#error "COACTOR_TCP_TEST_PEER (the path of tcp_test_peer) is set by tests/CMakeLists.txt"
#endif

namespace netns_test {

using clock_type = std::chrono::steady_clock;

/// Where `ip netns` keeps its namespaces (iproute2's NETNS_RUN_DIR).
constexpr const char* netns_dir = "/var/run/netns/";
constexpr const char* client_host = "10.231.0.1";
constexpr const char* server_host = "10.231.0.2";

/// Sent from the test's thread to the client process: the link is up again.
struct link_restored {
  int unused = 0;
};

double ms(clock_type::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

/// The path of `name` in $PATH or in the sbin folders (which a user's $PATH may lack); empty if none.
std::string find_program(const std::string& name) {
  std::string dirs = std::getenv("PATH") ? std::getenv("PATH") : "";
  dirs += ":/usr/sbin:/sbin:/usr/bin:/bin";
  std::istringstream in(dirs);
  for (std::string dir; std::getline(in, dir, ':');) {
    if (dir.empty()) continue;
    const std::string path = dir + "/" + name;
    if (::access(path.c_str(), X_OK) == 0) return path;
  }
  return {};
}

/// What a command said (stdout and stderr) and its exit status (-1: it did not exit normally).
struct command_result {
  int status = -1;
  std::string output;
  bool ok() const noexcept { return status == 0; }
};

/// Runs `argv` (argv[0] a path) to its end.
command_result run(std::vector<std::string> argv) {
  command_result r;
  int out[2];
  if (::pipe2(out, O_CLOEXEC) != 0) return {-1, "pipe2: " + std::string(std::strerror(errno))};
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out[1], 1);
  posix_spawn_file_actions_adddup2(&actions, out[1], 2);
  std::vector<char*> args;
  for (std::string& a : argv) args.push_back(a.data());
  args.push_back(nullptr);
  pid_t child = -1;
  const int failed = posix_spawn(&child, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(out[1]);
  if (failed) {
    ::close(out[0]);
    return {-1, "cannot start " + argv[0] + ": " + std::strerror(failed)};
  }
  char buf[512];
  for (ssize_t n; (n = ::read(out[0], buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR);)
    if (n > 0) r.output.append(buf, static_cast<std::size_t>(n));
  ::close(out[0]);
  while (!r.output.empty() && std::isspace(static_cast<unsigned char>(r.output.back()))) r.output.pop_back();
  int status = 0;
  while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  r.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

/// The calling thread in a named namespace for as long as this lives; then back where it was.
class inside_namespace {
 public:
  explicit inside_namespace(const std::string& name) {
    home_ = ::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    const int there = ::open((netns_dir + name).c_str(), O_RDONLY | O_CLOEXEC);
    if (home_ < 0 || there < 0 || ::setns(there, CLONE_NEWNET) != 0)
      why_not_ = std::strerror(errno);
    else
      entered_ = true;
    if (there >= 0) ::close(there);
  }
  ~inside_namespace() {
    if (entered_) ::setns(home_, CLONE_NEWNET);
    if (home_ >= 0) ::close(home_);
  }
  inside_namespace(const inside_namespace&) = delete;
  inside_namespace& operator=(const inside_namespace&) = delete;

  bool entered() const noexcept { return entered_; }
  const std::string& why_not() const noexcept { return why_not_; }

 private:
  int home_ = -1;
  bool entered_ = false;
  std::string why_not_;
};

/// Runs `argv` in the namespace `name`: spawned from this thread while it is in there (a child starts in
/// the namespace of the thread that started it). Not `ip -n` nor `ip netns exec`: those remount / on the
/// way in, which fails where / is not a mount point (a chroot, as in a fresh Debian root).
command_result run_in(const std::string& name, std::vector<std::string> argv) {
  inside_namespace in(name);
  if (!in.entered()) return {-1, "cannot enter " + name + ": " + in.why_not()};
  return run(std::move(argv));
}

/// The two namespaces and the veth pair between them. make() builds them; the destructor kills whatever
/// still runs in them and deletes them (their interfaces go with them).
class namespace_pair {
 public:
  explicit namespace_pair(std::string ip)
      : ip_(std::move(ip)),
        a_("coactor-netns-" + std::to_string(::getpid()) + "-a"),
        b_("coactor-netns-" + std::to_string(::getpid()) + "-b") {}
  ~namespace_pair() {
    for (const std::string& name : made_) {
      kill_everything_in(name);
      run({ip_, "netns", "delete", name});
    }
  }
  namespace_pair(const namespace_pair&) = delete;
  namespace_pair& operator=(const namespace_pair&) = delete;

  const std::string& a() const noexcept { return a_; }
  const std::string& b() const noexcept { return b_; }

  /// Makes the namespaces and the link. Empty if done; otherwise why this system does not let us, for a
  /// skip (and the steps done are undone by the destructor).
  std::string make() {
    for (const std::string& name : {a_, b_}) {
      // A namespace of ours left by an earlier run with our pid (killed by ctest's timeout): no process
      // can have that pid now but this one.
      if (::access((netns_dir + name).c_str(), F_OK) == 0) run({ip_, "netns", "delete", name});
      const command_result r = run({ip_, "netns", "add", name});
      if (!r.ok()) return "`ip netns add` failed: " + r.output;
      made_.push_back(name);
    }
    // Both ends made where they live: nothing appears in the test's own namespace.
    const command_result veth = run_in(a_, {ip_, "link", "add", "veth-a", "type", "veth", "peer", "name", "veth-b",
                                            "netns", b_});
    if (!veth.ok()) return "cannot make a veth pair: " + veth.output;
    return {};
  }

  /// Gives the two ends their addresses and brings them up; what went wrong, empty if nothing.
  std::string configure() {
    const std::vector<std::pair<std::string, std::vector<std::string>>> steps{
        {a_, {ip_, "address", "add", std::string(client_host) + "/24", "dev", "veth-a"}},
        {b_, {ip_, "address", "add", std::string(server_host) + "/24", "dev", "veth-b"}},
        {a_, {ip_, "link", "set", "veth-a", "up"}},
        {b_, {ip_, "link", "set", "veth-b", "up"}}};
    for (const auto& [where, step] : steps) {
      const command_result r = run_in(where, step);
      if (!r.ok()) return step[1] + " " + step[2] + " in " + where + " failed: " + r.output;
    }
    return {};
  }

  /// Sets veth-a up or down (in a): the link between the namespaces is cut or restored.
  command_result link_a(bool up) { return run_in(a_, {ip_, "link", "set", "veth-a", up ? "up" : "down"}); }

 private:
  void kill_everything_in(const std::string& name) {
    std::istringstream pids(run({ip_, "netns", "pids", name}).output);
    for (pid_t p; pids >> p;)
      if (p != ::getpid()) ::kill(p, SIGKILL);  // this process, should its main thread be stuck in there
  }

  std::string ip_;
  std::string a_, b_;
  std::vector<std::string> made_;
};

/// True when the calling thread is in the namespace `name` (the same namespace object, by inode).
bool thread_is_in(const std::string& name) {
  struct stat mine {}, theirs {};
  return ::stat("/proc/thread-self/ns/net", &mine) == 0 && ::stat((netns_dir + name).c_str(), &theirs) == 0 &&
         mine.st_dev == theirs.st_dev && mine.st_ino == theirs.st_ino;
}

/// CI runs `.ci/run` as root with CI=true: there this test must run, and a reason to skip is a failure.
bool must_run() {
  const char* ci = std::getenv("CI");
  return ::geteuid() == 0 && ci != nullptr && std::strcmp(ci, "true") == 0;
}

/// Accepts what the client waits for while the link is cut.
struct down_or_node_down {
  bool operator()(const message& m) const { return m.is<down>() || m.is<node_down>(); }
};

}  // namespace netns_test

using namespace netns_test;

TEST_CASE("tcp_pooled in network namespaces: a cut link gets the server's node declared down within peer_timeout, "
          "and a restored one brings it back",
          "[tcp][tcp_pooled][failure_detection][netns]") {
  // The test says why it cannot run, and ctest reports it skipped; or, where it must run, fails.
  auto cannot_run = [](const std::string& why) {
    if (must_run())
      FAIL("the netns test must run here (root, CI=true), but: " << why);
    else
      WARN("netns test skipped: " << why);
  };
  const std::string ip = find_program("ip");
  if (ip.empty()) {
    cannot_run("no `ip` program (Debian's iproute2)");
    return;
  }
  namespace_pair namespaces(ip);
  if (const std::string why = namespaces.make(); !why.empty()) {
    cannot_run(why + " (it needs root, or CAP_NET_ADMIN and CAP_SYS_ADMIN)");
    return;
  }
  INFO("namespaces " << namespaces.a() << " and " << namespaces.b());
  REQUIRE(namespaces.configure() == "");

  const tcp_pooled_options quick{.heartbeat_interval = 100ms, .peer_timeout = 500ms};
  const auto detected_within = quick.peer_timeout + 2s * slowdown;
  // The server in b, beating as often as the client (a node waits at least 1.5 times the interval its
  // peer announced).
  // (Started from this thread while it is in b: the child starts there.)
  std::optional<peer_process> server_process;
  {
    inside_namespace in_b(namespaces.b());
    if (!in_b.entered()) {
      cannot_run("cannot enter namespace " + namespaces.b() + ": " + in_b.why_not());
      return;
    }
    server_process.emplace(COACTOR_TCP_TEST_PEER,
                           std::vector<std::string>{"pooled", std::string(server_host) + ":0", "100", "500"});
  }
  const process_name name{server_process->address(), "server"};
  REQUIRE(server_process->address().rfind(std::string(server_host) + ":", 0) == 0);

  // From here on the main thread is in a, and the node with it: its sockets must never be anywhere else.
  inside_namespace in_a(namespaces.a());
  if (!in_a.entered()) {
    cannot_run("cannot enter namespace " + namespaces.a() + ": " + in_a.why_not());
    return;
  }
  REQUIRE(thread_is_in(namespaces.a()));
  test_node client("client", std::make_unique<tcp_pooled_transport>(quick));
  REQUIRE(client.listen(client_host).rfind(std::string(client_host) + ":", 0) == 0);

  // What the client process saw, written on the node's thread; read by the test once `met`, `lost` or
  // the node's end says it was written.
  std::optional<error> meeting_failed;
  std::optional<node_up> first_up, second_up;
  pid server;
  std::optional<down> seen_down;
  std::optional<node_down> seen_node_down;
  clock_type::time_point down_at, node_down_at;
  std::optional<std::string> reply_after;
  clock_type::time_point answered_at;
  int asked_after = 0;
  std::atomic<bool> met{false}, lost{false};

  const pid client_process = client->spawn([&, name](context self) -> process {
    self.watch_nodes();
    // They meet: the server answers (a reply's sender is the server), and its node is up.
    result<message> who = error(errc::timeout);
    for (int attempt = 0; attempt < 5 && !who; ++attempt)
      who = co_await self.request(name, coactor::make<ping>(attempt, "hello", pid{}), 2s * slowdown);
    if (!who) {
      meeting_failed = who.error();
      co_return;
    }
    server = who->sender();
    if (auto up = co_await self.receive<node_up>(5s * slowdown)) first_up = **up;
    self.monitor(server);
    // The monitor went ahead of this request on the same connection: once answered, b holds it.
    auto held = co_await self.request<std::string>(server, coactor::make<ping>(0, "monitoring", pid{}), 5s * slowdown);
    if (!held) {
      meeting_failed = held.error();
      co_return;
    }
    met.store(true, std::memory_order_release);

    // The link is cut: the monitor fires and the node watcher hears of it, in either order.
    while (!seen_down || !seen_node_down) {
      auto m = co_await self.receive_if(down_or_node_down{}, 60s);
      if (!m) break;
      if (const down* d = m->get_if<down>()) {
        down_at = clock_type::now();
        seen_down = *d;
      } else {
        node_down_at = clock_type::now();
        seen_node_down = m->as<node_down>();
      }
    }
    lost.store(true, std::memory_order_release);

    // The link is back: the client asks again (dialling again) until the server answers.
    if (!co_await self.receive<link_restored>(60s)) co_return;
    const auto until = clock_type::now() + 10s * slowdown;
    while (!reply_after && clock_type::now() < until) {
      ++asked_after;
      auto r = co_await self.request<std::string>(name, coactor::make<ping>(asked_after, "again", pid{}), 2s * slowdown);
      if (r) {
        answered_at = clock_type::now();
        reply_after = *r;
      } else {
        co_await self.sleep(100ms);
      }
    }
    if (auto up = co_await self.receive<node_up>(5s * slowdown)) second_up = **up;
    self.send(name, quit{});  // the server process exits
  });
  client.start();

  const bool meeting = wait_until([&] { return met.load(std::memory_order_acquire); }, 20s * slowdown);
  if (!meeting) {
    client.stop();  // so that what the client process wrote can be read
    INFO((meeting_failed ? meeting_failed->message() : std::string("no failure")) << "\n" << client.errors().dump());
    REQUIRE(meeting);
  }
  REQUIRE(first_up);
  CHECK(first_up->address == server_process->address());

  // Cut: veth-a down in a. Nothing is closed; the heartbeats stop getting through, both ways.
  CHECK_FALSE(lost.load());  // the server's node was not declared down before
  const auto cut = clock_type::now();
  const command_result cutting = namespaces.link_a(false);
  INFO("ip said: " << cutting.output);
  REQUIRE(cutting.ok());
  // Waited for a little longer than allowed, so that a late one says how late it was.
  if (!wait_until([&] { return lost.load(std::memory_order_acquire); }, detected_within + 2s))
    client.stop();  // it did not come: the node stops, so that what the client process saw can be read
  INFO(client.errors().dump());
  REQUIRE(seen_down);
  INFO("monitor fired " << ms(down_at - cut) << " ms after the cut");
  CHECK(seen_down->process == server);
  CHECK(seen_down->reason.kind == exit_kind::noconnection);
  CHECK(down_at - cut < detected_within);
  REQUIRE(seen_node_down);
  INFO("node_down " << ms(node_down_at - cut) << " ms after the cut: " << seen_node_down->reason);
  CHECK(seen_node_down->address == server_process->address());
  CHECK(seen_node_down->incarnation == first_up->incarnation);
  CHECK(node_down_at - cut < detected_within);

  // Restore: veth-a up again. The client dials again; the server (which declared the client down too)
  // accepts; the two meet again, the same incarnations.
  const auto restored = clock_type::now();
  const command_result restoring = namespaces.link_a(true);
  INFO("ip said: " << restoring.output);
  REQUIRE(restoring.ok());
  client->send(client_process, link_restored{});
  REQUIRE(client.wait(30s * slowdown));
  INFO("asked " << asked_after << " times after the restore");
  REQUIRE(reply_after);
  CHECK(*reply_after == "pong:again");
  INFO("answered " << ms(answered_at - restored) << " ms after the restore");
  REQUIRE(second_up);
  CHECK(second_up->address == server_process->address());
  CHECK(second_up->incarnation == first_up->incarnation);  // the same node, met again
  CHECK(server_process->wait(10s * slowdown) == 0);         // it got the quit, over the restored link
}
