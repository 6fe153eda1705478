// Monitors, links and exit signals on one node (monitor.hpp, exit_reason.hpp, context.hpp): every
// reason a process can end with reaches its monitors and linked processes, cancelling works, and the
// ordering promises hold. Between nodes: tests/transports/faults.test.cpp.
#include <coactor/coactor.hpp>

#include <catch2/catch.hpp>

#include <stdexcept>
#include <string>
#include <vector>

using namespace coactor;
using namespace std::chrono_literals;

namespace monitor_test {
struct go {};
struct note {
  int n;
};
}  // namespace monitor_test

using namespace monitor_test;

TEST_CASE("monitor: the down message carries each reason a process can end with", "[monitor]") {
  struct each {
    const char* name;
    exit_kind kind;
    std::string detail;
  };
  for (const each& c : {each{"normal", exit_kind::normal, ""}, each{"exception", exit_kind::exception, "boom"},
                        each{"killed", exit_kind::killed, ""}, each{"exit", exit_kind::other, "enough"}}) {
    SECTION(c.name) {
      node n({.threads = 1});
      struct {
        std::vector<down> downs;
      } got;
      const std::string which = c.name;
      pid target = n.spawn([which](context self) -> process {
        co_await self.receive<go>();
        if (which == "exception") throw std::runtime_error("boom");
        if (which == "killed" || which == "exit") co_await self.receive<go>();  // waits to be ended
      });
      n.spawn([&, target, which](context self) -> process {
        monitor_ref ref = self.monitor(target);
        self.send(target, go{});
        if (which == "killed") self.kill(target);
        if (which == "exit") self.exit(target, exit_reason::because("enough"));
        auto d = co_await self.receive<down>(5s);
        REQUIRE(d);
        CHECK((*d)->ref == ref);
        got.downs.push_back(**d);
      });
      n.run();
      REQUIRE(got.downs.size() == 1);
      CHECK(got.downs[0].process == target);
      CHECK(got.downs[0].reason.kind == c.kind);
      CHECK(got.downs[0].reason.detail == c.detail);
    }
  }
}

TEST_CASE("monitor: a process already gone gives noproc at once, a name nobody holds too", "[monitor]") {
  node n({.threads = 1});
  std::vector<down> downs;
  pid gone = n.spawn([](context) -> process { co_return; });
  n.spawn([&, gone](context self) -> process {
    co_await self.sleep(10ms);  // `gone` has ended by now
    self.monitor(gone);
    self.monitor(process_name{"", "nobody"});
    for (int i = 0; i < 2; ++i) {
      auto d = co_await self.receive<down>(1s);
      REQUIRE(d);
      downs.push_back(**d);
    }
  });
  n.run();
  REQUIRE(downs.size() == 2);
  CHECK(downs[0].process == gone);
  CHECK(downs[0].reason.kind == exit_kind::noproc);
  CHECK(downs[1].reason.kind == exit_kind::noproc);
  CHECK(downs[1].reason.detail.find("nobody") != std::string::npos);
}

TEST_CASE("monitor: the down message comes after everything the process sent first", "[monitor]") {
  node n({.threads = 2});
  std::vector<int> seen;
  bool down_last = false;
  pid watcher = n.spawn([&](context self) -> process {
    auto target = co_await self.receive<pid>();
    self.monitor(*target);
    self.send(*target, go{});
    for (;;) {
      message m = co_await self.receive();
      if (auto* d = m.get_if<down>()) {
        down_last = seen.size() == 1000 && d->reason.kind == exit_kind::normal;
        break;
      }
      seen.push_back(m.as<note>().n);
    }
  });
  pid target = n.spawn([watcher](context self) -> process {
    co_await self.receive<go>();
    for (int i = 0; i < 1000; ++i) self.send(watcher, note{i});
  });
  n.send(watcher, target);
  n.run();
  CHECK(seen.size() == 1000);
  CHECK(down_last);
}

TEST_CASE("monitor: after demonitor returns no down message is received, even one already queued",
          "[monitor]") {
  node n({.threads = 1});
  bool got_down = true;
  n.spawn([&](context self) -> process {
    pid target = self.spawn([](context) -> process { co_return; });
    monitor_ref ref = self.monitor(target);
    co_await self.sleep(20ms);  // the target ends: its down message is queued here now
    self.demonitor(ref);
    auto d = co_await self.receive<down>(50ms);
    got_down = static_cast<bool>(d);
    // And a monitor cancelled before the target ends never fires.
    pid later = self.spawn([](context s) -> process { co_await s.sleep(20ms); });
    self.demonitor(self.monitor(later));
    auto d2 = co_await self.receive<down>(100ms);
    got_down = got_down || static_cast<bool>(d2);
  });
  n.run();
  CHECK_FALSE(got_down);
}

TEST_CASE("link: an abnormal end takes the linked process down with the same reason, a normal one does not",
          "[link]") {
  node n({.threads = 1});
  std::vector<down> downs;
  n.spawn([&](context self) -> process {
    // Two linked pairs: in one the first fails, in the other it returns.
    pid failing = self.spawn([](context s) -> process {
      co_await s.receive<go>();
      throw std::runtime_error("crash");
    });
    pid returning = self.spawn([](context s) -> process { co_await s.receive<go>(); });
    pid partner1 = self.spawn([failing](context s) -> process {
      s.link(failing);
      co_await s.receive<go>();  // ends only by the exit signal
    });
    pid partner2 = self.spawn([returning](context s) -> process {
      s.link(returning);
      auto m = co_await s.receive<go>(300ms);  // still alive after `returning` ended normally
      (void)m;
    });
    self.monitor(partner1);
    self.monitor(partner2);
    co_await self.sleep(10ms);  // the links are made
    self.send(failing, go{});
    self.send(returning, go{});
    for (int i = 0; i < 2; ++i) {
      auto d = co_await self.receive<down>(5s);
      REQUIRE(d);
      downs.push_back(**d);
    }
    CHECK(downs[0].process == partner1);
    CHECK(downs[1].process == partner2);
  });
  n.run();
  REQUIRE(downs.size() == 2);
  CHECK(downs[0].reason.kind == exit_kind::exception);
  CHECK(downs[0].reason.detail == "crash");
  CHECK(downs[1].reason.kind == exit_kind::normal);
}

TEST_CASE("link: a process that traps exits receives them, kill ends it anyway", "[link]") {
  node n({.threads = 1});
  std::vector<exit_message> exits;
  exit_reason trapper_end;
  n.spawn([&](context self) -> process {
    pid trapper = self.spawn([&](context s) -> process {
      s.trap_exits();
      pid child = s.spawn_linked([](context c) -> process {
        co_await c.receive<go>();
        throw std::runtime_error("child failed");
      });
      s.send(child, go{});
      auto e = co_await s.receive<exit_message>(5s);
      if (e) exits.push_back(**e);
      s.exit(s.pid(), exit_reason::because("ignored while trapping"));  // arrives as a message too
      auto e2 = co_await s.receive<exit_message>(5s);
      if (e2) exits.push_back(**e2);
      co_await s.receive<go>();  // until killed
    });
    self.monitor(trapper);
    co_await self.sleep(20ms);
    self.kill(trapper);
    auto d = co_await self.receive<down>(5s);
    REQUIRE(d);
    trapper_end = (*d)->reason;
  });
  n.run();
  REQUIRE(exits.size() == 2);
  CHECK(exits[0].reason.kind == exit_kind::exception);
  CHECK(exits[0].reason.detail == "child failed");
  CHECK(exits[1].reason == exit_reason::because("ignored while trapping"));
  CHECK(trapper_end.kind == exit_kind::killed);
}

TEST_CASE("link: unlink stops the propagation, a link to a process that is gone gives noproc", "[link]") {
  node n({.threads = 1});
  std::vector<down> downs;
  n.spawn([&](context self) -> process {
    pid failing = self.spawn([](context s) -> process {
      co_await s.receive<go>();
      throw std::runtime_error("crash");
    });
    pid unlinked = self.spawn([failing](context s) -> process {
      s.link(failing);
      s.unlink(failing);
      static_cast<void>(co_await s.receive<go>(200ms));  // survives, then returns
    });
    pid gone = self.spawn([](context) -> process { co_return; });
    pid linker = self.spawn([gone](context s) -> process {
      co_await s.sleep(10ms);
      s.link(gone);             // gone by now: noproc
      co_await s.receive<go>();  // ended by it
    });
    self.monitor(unlinked);
    self.monitor(linker);
    co_await self.sleep(5ms);
    self.send(failing, go{});
    for (int i = 0; i < 2; ++i) {
      auto d = co_await self.receive<down>(5s);
      REQUIRE(d);
      downs.push_back(**d);
    }
  });
  n.run();
  REQUIRE(downs.size() == 2);
  for (const down& d : downs) {
    if (d.reason.kind == exit_kind::noproc) continue;
    CHECK(d.reason.kind == exit_kind::normal);  // the unlinked one
  }
  CHECK((downs[0].reason.kind == exit_kind::noproc || downs[1].reason.kind == exit_kind::noproc));
}

TEST_CASE("exit signals: a normal one is ignored, a sleeping process ends at once", "[link]") {
  node n({.threads = 1});
  exit_reason end;
  duration took{};
  n.spawn([&](context self) -> process {
    pid sleeper = self.spawn([](context s) -> process { co_await s.sleep(30s); });
    self.monitor(sleeper);
    self.exit(sleeper, exit_reason::normal());  // ignored
    co_await self.sleep(10ms);
    const time_point start = self.now();
    self.exit(sleeper, exit_reason::because("stop"));
    auto d = co_await self.receive<down>(5s);
    REQUIRE(d);
    end = (*d)->reason;
    took = self.now() - start;
  });
  n.run();
  CHECK(end == exit_reason::because("stop"));
  CHECK(took < 5s);
}
