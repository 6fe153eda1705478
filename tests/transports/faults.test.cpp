// Monitors, links and exit signals between nodes, and what a node does when its transport reports a
// peer down (transport_host::peer_down): monitors and links on that node fire with noconnection,
// requests waiting for it fail at once with errc::node_down, watchers get node_down. The nodes talk
// over loopback; `injector` wraps a transport so that a test can report a peer down (or up) the way a
// transport's failure detection would. How each transport detects failures: the conformance suite.
#include <coactor/coactor.hpp>
#include <coactor/transports/loopback.hpp>
#include <coactor/transports/tcp_pooled.hpp>

#include <catch2/catch.hpp>

#include <memory>
#include <optional>
#include <thread>
#include <stdexcept>
#include <string>
#include <vector>

using namespace coactor;
using namespace std::chrono_literals;

namespace faults_test {
struct go {};
struct note {
  int n;
};

/// A transport that passes everything through and lets the test call peer_up/peer_down.
class injector final : public transport, private transport_host {
 public:
  explicit injector(std::unique_ptr<transport> inner) : inner_(std::move(inner)) {}
  void attach(transport_host& host) override {
    host_ = &host;
    inner_->attach(*this);
  }
  result<node_address> listen(std::string_view address) override { return inner_->listen(address); }
  void send(const peer_ref& peer, std::string_view frame) override { inner_->send(peer, frame); }
  void shutdown() override { inner_->shutdown(); }

  void report_down(const node_identity& peer, const error& why) { host_->peer_down(peer, why); }
  void report_up(const node_identity& peer) { host_->peer_up(peer); }
  result<void> inject(const node_identity& from, std::string_view frame) { return host_->deliver(from, frame); }

 private:
  const node_identity& identity() const noexcept override { return host_->identity(); }
  coactor::scheduler& scheduler() noexcept override { return host_->scheduler(); }
  result<void> deliver(const node_identity& from, std::string_view frame) override { return host_->deliver(from, frame); }
  void undeliverable(std::string_view frame, const error& why) override { host_->undeliverable(frame, why); }
  void report(const error& what) override { host_->report(what); }

  std::unique_ptr<transport> inner_;
  transport_host* host_ = nullptr;
};
}  // namespace faults_test

using namespace faults_test;

namespace {

/// Two nodes a and b on one thread, on a loopback network; a's transport is an injector.
struct pair_of_nodes {
  std::shared_ptr<loopback_network> network = std::make_shared<loopback_network>();
  thread_pool pool{1};
  injector* a_transport = nullptr;
  node a{pool, {.name = "a", .transport = wrap()}};
  node b{pool, {.name = "b", .transport = std::make_unique<loopback_transport>(network)}};

  pair_of_nodes() {
    REQUIRE(a.listen("a:1"));
    REQUIRE(b.listen("b:1"));
  }
  std::unique_ptr<transport> wrap() {
    auto t = std::make_unique<injector>(std::make_unique<loopback_transport>(network));
    a_transport = t.get();
    return t;
  }
  node_identity b_identity(const pid& on_b) const { return {on_b.incarnation(), "b", "b:1", codec::binary}; }
};

}  // namespace

TEST_CASE("faults: a monitor across nodes sees the reason, after the process's last messages", "[faults]") {
  pair_of_nodes n;
  std::vector<int> notes;
  down seen;
  pid target = n.b.spawn([](context self) -> process {
    auto watcher = co_await self.receive<pid>();
    for (int i = 0; i < 100; ++i) self.send(*watcher, note{i});
    throw std::runtime_error("remote crash");
  });
  n.a.spawn([&, target](context self) -> process {
    self.monitor(target);
    self.send(target, self.pid());
    for (;;) {
      message m = co_await self.receive();
      if (auto* d = m.get_if<down>()) {
        seen = *d;
        break;
      }
      notes.push_back(m.as<note>().n);
    }
  });
  n.pool.run();
  CHECK(notes.size() == 100);
  CHECK(seen.process == target);
  CHECK(seen.reason == exit_reason{exit_kind::exception, "remote crash"});
}

TEST_CASE("faults: monitoring a process of another node that is gone gives noproc, a name too", "[faults]") {
  pair_of_nodes n;
  std::vector<down> downs;
  pid gone = n.b.spawn([](context) -> process { co_return; });
  n.a.spawn([&, gone](context self) -> process {
    co_await self.sleep(10ms);
    self.monitor(gone);
    self.monitor(process_name{"b:1", "nobody"});
    for (int i = 0; i < 2; ++i) {
      auto d = co_await self.receive<down>(2s);
      REQUIRE(d);
      downs.push_back(**d);
    }
  });
  n.pool.run();
  REQUIRE(downs.size() == 2);
  CHECK(downs[0].reason.kind == exit_kind::noproc);
  CHECK(downs[1].reason.kind == exit_kind::noproc);
}

TEST_CASE("faults: links across nodes propagate both ways, and unlink and demonitor reach the other node",
          "[faults]") {
  pair_of_nodes n;
  std::vector<down> downs;
  bool demonitored_fired = true;
  pid crasher = n.b.spawn([](context self) -> process {
    co_await self.receive<go>();
    throw std::runtime_error("b failed");
  });
  pid quiet = n.b.spawn([](context self) -> process { static_cast<void>(co_await self.receive<go>(300ms)); });
  n.a.spawn([&, crasher, quiet](context self) -> process {
    pid partner = self.spawn([crasher](context s) -> process {
      s.link(crasher);
      co_await s.receive<go>();  // ended by the link
    });
    pid survivor = self.spawn([quiet](context s) -> process {
      s.link(quiet);
      s.unlink(quiet);
      static_cast<void>(co_await s.receive<go>(500ms));
    });
    self.monitor(partner);
    self.monitor(survivor);
    monitor_ref cancelled = self.monitor(quiet);
    self.demonitor(cancelled);
    co_await self.sleep(20ms);
    self.send(crasher, go{});
    self.kill(quiet);  // its end would reach `survivor` had unlink not been sent
    for (int i = 0; i < 2; ++i) {
      auto d = co_await self.receive<down>(5s);
      REQUIRE(d);
      downs.push_back(**d);
      if ((*d)->ref == cancelled) demonitored_fired = true;
    }
    demonitored_fired = false;
    auto extra = co_await self.receive<down>(100ms);
    demonitored_fired = static_cast<bool>(extra);
  });
  n.pool.run();
  REQUIRE(downs.size() == 2);
  CHECK(downs[0].reason == exit_reason{exit_kind::exception, "b failed"});  // partner, through the link
  CHECK(downs[1].reason.kind == exit_kind::normal);                       // survivor
  CHECK_FALSE(demonitored_fired);
}

TEST_CASE("faults: a peer reported down fires monitors and links with noconnection and fails requests at once",
          "[faults]") {
  pair_of_nodes n;
  std::vector<down> downs;
  result<message> reply = error(errc::io);
  duration waited{};
  std::vector<node_down> node_events;
  exit_message trapped;
  pid silent = n.b.spawn([](context self) -> process { static_cast<void>(co_await self.receive<go>(1s)); });
  pid linked = n.b.spawn([](context self) -> process { static_cast<void>(co_await self.receive<go>(1s)); });
  REQUIRE(n.b.register_name("svc", linked));
  exit_reason name_down;
  n.a.spawn([&](context self) -> process {
    self.monitor(process_name{"b:1", "svc"});
    auto d = co_await self.receive<down>(5s);
    if (d) name_down = (*d)->reason;
  });
  n.a.spawn([&](context self) -> process {
    self.watch_nodes();
    auto d = co_await self.receive<node_down>(5s);
    if (d) node_events.push_back(**d);
  });
  n.a.spawn([&, linked](context self) -> process {
    self.trap_exits();
    self.link(linked);
    auto e = co_await self.receive<exit_message>(5s);
    if (e) trapped = **e;
  });
  n.a.spawn([&, silent](context self) -> process {
    self.monitor(silent);
    const time_point start = self.now();
    reply = co_await self.request(silent, note{1}, 5s);  // never answered (it takes only go)
    waited = self.now() - start;
    auto d = co_await self.receive<down>(1s);
    if (d) downs.push_back(**d);
  });
  n.a.spawn([&, silent](context self) -> process {
    co_await self.sleep(50ms);  // everything above is set up and waiting
    n.a_transport->report_down(n.b_identity(silent), error(errc::timeout, "no heartbeat"));
  });
  n.pool.run();
  REQUIRE_FALSE(reply);
  CHECK(reply.error() == errc::node_down);
  CHECK(waited < 2s);
  REQUIRE(downs.size() == 1);
  CHECK(downs[0].process == silent);
  CHECK(downs[0].reason.kind == exit_kind::noconnection);
  CHECK(trapped.from == linked);
  CHECK(trapped.reason.kind == exit_kind::noconnection);
  CHECK(name_down.kind == exit_kind::noconnection);
  REQUIRE(node_events.size() == 1);
  CHECK(node_events[0].incarnation == silent.incarnation());
  CHECK(node_events[0].address == "b:1");
}

TEST_CASE("faults: a monitor or link to a node that cannot be reached fires noconnection", "[faults]") {
  pair_of_nodes n;
  std::vector<exit_kind> kinds;
  // A pid of a node nobody runs: the transport gives the signals back.
  const pid nowhere = *pid::parse("coactor://nowhere:1/pid/1234.1.99");
  n.a.spawn([&, nowhere](context self) -> process {
    self.trap_exits();
    self.monitor(nowhere);
    self.link(nowhere);
    auto d = co_await self.receive<down>(2s);
    if (d) kinds.push_back((*d)->reason.kind);
    auto e = co_await self.receive<exit_message>(2s);
    if (e) kinds.push_back((*e)->reason.kind);
  });
  n.pool.run();
  CHECK(kinds == std::vector<exit_kind>{exit_kind::noconnection, exit_kind::noconnection});
}

// Over TCP, end to end: the server's node stops running (its scheduler, and with it its heartbeats,
// stop; its processes never end), and the client's monitor fires noconnection and its pending request
// fails with node_down within peer_timeout, long before the request's own timeout. (A peer that says
// goodbye, restarts or is killed: tests/transports/tcp_pooled/failure_detection.test.cpp.)
TEST_CASE("faults: over tcp_pooled, a server node that goes away fires the client's monitor and fails its request",
          "[faults][tcp]") {
  tcp_pooled_options fast;
  fast.heartbeat_interval = 100ms;
  fast.peer_timeout = 500ms;
  thread_pool client_pool(1);
  node client(client_pool, {.name = "client", .transport = std::make_unique<tcp_pooled_transport>(fast)});
  std::optional<node> server;
  server.emplace(node_options{.name = "server", .threads = 1, .transport = std::make_unique<tcp_pooled_transport>(fast)});
  auto bound = server->listen("127.0.0.1:0");
  REQUIRE(bound);
  REQUIRE(server->register_name("server", server->spawn([](context self) -> process {
    for (;;) {
      message m = co_await self.receive();
      if (m.is<go>()) self.reply(m, self.pid());  // the first request: who are you
    }                                               // the others are never answered
  })));
  std::thread server_thread([&] { server->run(); });
  result<message> pending = error(errc::io);
  std::optional<down> seen;
  duration waited{};
  std::atomic<bool> asking{false};
  const process_name name{bound->to_string(), "server"};
  client.spawn([&, name](context self) -> process {
    auto who = co_await self.request<pid>(name, go{}, 5s);
    REQUIRE(who);
    self.monitor(*who);
    asking = true;
    const time_point start = self.now();
    pending = co_await self.request(*who, note{1}, 30s);
    waited = self.now() - start;
    auto d = co_await self.receive<down>(5s);
    if (d) seen = **d;
  });
  std::thread stopper([&] {
    while (!asking) std::this_thread::sleep_for(1ms);
    std::this_thread::sleep_for(50ms);  // the request is on its way
    server->stop();
  });
  client_pool.run();
  stopper.join();
  server_thread.join();
  server.reset();
  REQUIRE_FALSE(pending);
  CHECK(pending.error() == errc::node_down);
  CHECK(waited < 10s);
  REQUIRE(seen);
  CHECK(seen->reason.kind == exit_kind::noconnection);
}

// A transport's own frame (here a heartbeat, which the TCP transports consume) that a transport passes
// to its node by mistake is refused and reported like any misplaced frame; the node goes on.
TEST_CASE("faults: a heartbeat frame given to a node is refused and reported", "[faults][hostile]") {
  pair_of_nodes n;
  std::vector<std::string> errors;
  n.a.on_error([&](const error& e, const pid&) { errors.push_back(e.message()); });
  const std::string heartbeat("\x04\0\0\0\x08\0\0\0", 8);
  auto r = n.a_transport->inject({42, "b", "b:1", codec::binary}, heartbeat);
  REQUIRE_FALSE(r);
  CHECK(r.error() == errc::protocol);
  CHECK(n.a.stats().bad_frames == 1);
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].find("unexpected frame of kind 8") != std::string::npos);
}
