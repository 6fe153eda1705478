// Supervisors (supervisor.hpp): the three strategies, restart types, restart intensity, nesting, names,
// and how a supervisor ends. On one-thread nodes (deterministic) except the last test (two threads, for
// TSan). Under the simulator: tests/sim/supervisor.test.cpp.
#include "support.hpp"

#include <coactor/coactor.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <stdexcept>
#include <string>
#include <vector>

using namespace coactor;
using namespace std::chrono_literals;

namespace supervisor_test {

struct crash {};
struct quit {};
struct who {};  // request: the worker answers with its pid

/// What the workers of one test did, in order ("start a", "end a"); one-thread nodes only.
struct journal {
  std::vector<std::string> lines;
};

/// Writes "end <id>" when the worker's frame is destroyed, however the worker ended.
struct end_note {
  journal* j;
  std::string id;
  end_note(journal* to, std::string name) : j(to), id(std::move(name)) {}
  end_note(const end_note&) = delete;
  end_note& operator=(const end_note&) = delete;
  ~end_note() {
    if (j) j->lines.push_back("end " + id);
  }
};

process worker(context self, std::string id, journal* j) {
  end_note note(j, id);
  for (;;) {
    message m = co_await self.receive();
    if (m.is<crash>()) throw std::runtime_error("crash " + id);
    if (m.is<quit>()) co_return;
    if (m.is<who>()) self.reply(m, self.pid());
  }
}

child_spec worker_spec(std::string id, journal* j, restart_type restart = restart_type::permanent,
                       std::string name = {}) {
  auto start = [id, j](context c) {
    if (j) j->lines.push_back("start " + id);
    return worker(c, id, j);
  };
  return {.id = id, .start = start, .restart = restart, .name = std::move(name)};
}

pid pid_of(const std::vector<child_info>& children, const std::string& id) {
  for (const child_info& c : children)
    if (c.id == id) return c.process;
  return {};
}

bool has(const std::vector<child_info>& children, const std::string& id) {
  for (const child_info& c : children)
    if (c.id == id) return true;
  return false;
}

std::vector<child_spec> three_workers(journal& j) {
  std::vector<child_spec> specs;
  for (const char* id : {"a", "b", "c"}) specs.push_back(worker_spec(id, &j));
  return specs;
}

}  // namespace supervisor_test

using namespace supervisor_test;

// A one-thread node: a child's end reaches its monitors and then its supervisor in the same step, so a
// driver that has received the down message of a child and then asks the supervisor `which_children`
// is answered after the supervisor has dealt with that end.

namespace supervisor_test {

/// What a supervisor looked like before and after an event, and the down messages the event caused.
struct event_outcome {
  std::vector<child_info> before, after;
  std::vector<down> downs;
};

/// On a one-thread node, runs a supervisor over `specs` and a driver that asks it for its children
/// (`before`), clears the journal, calls `act(self, before)` (which ends some children and monitors
/// those it wants to see end; it returns how many down messages to wait for), waits for them, asks
/// again (`after`), and then stops the supervisor with shutdown_reason().
template <class Act>
event_outcome around(supervisor_options options, std::vector<child_spec> specs, journal* j, Act act) {
  node n({.threads = 1});
  n.on_error({});
  event_outcome out;
  pid sup = n.spawn(supervise, options, std::move(specs));
  n.spawn([&](context self) -> process {
    auto kids = co_await self.request<std::vector<child_info>>(sup, which_children{}, 1s);
    REQUIRE(kids);
    out.before = *kids;
    if (j) j->lines.clear();
    const int downs = act(self, out.before);
    for (int i = 0; i < downs; ++i) {
      auto d = co_await self.receive<down>(1s);
      REQUIRE(d);
      out.downs.push_back(**d);
    }
    auto again = co_await self.request<std::vector<child_info>>(sup, which_children{}, 1s);
    REQUIRE(again);
    out.after = *again;
    self.exit(sup, shutdown_reason());
  });
  REQUIRE(coactor_test::run_within(n));
  REQUIRE(n.stats().processes == 0);
  return out;
}

/// The act of most tests: crash one child, wait for the ends of those named in `watch`.
auto crash_one(std::string victim, std::vector<std::string> watch) {
  return [victim, watch](context self, const std::vector<child_info>& children) {
    for (const std::string& id : watch) self.monitor(pid_of(children, id));
    self.send(pid_of(children, victim), crash{});
    return static_cast<int>(watch.size());
  };
}

}  // namespace supervisor_test

TEST_CASE("supervisor: one_for_one restarts only the child that ended, with a new pid", "[supervisor]") {
  journal j;
  const event_outcome o = around(supervisor_options{}, three_workers(j), &j, crash_one("b", {"b"}));
  REQUIRE(o.before.size() == 3);
  REQUIRE(o.after.size() == 3);
  CHECK(o.after[0].id == "a");
  CHECK(o.after[1].id == "b");
  CHECK(o.after[2].id == "c");
  CHECK(o.after[0].process == o.before[0].process);
  CHECK(o.after[2].process == o.before[2].process);
  CHECK_FALSE(o.after[1].process.is_null());
  CHECK(o.after[1].process != o.before[1].process);
  // b's crash, its restart, then the shutdown: the last started first.
  CHECK(j.lines == std::vector<std::string>{"end b", "start b", "end c", "end b", "end a"});
}

TEST_CASE("supervisor: one_for_all stops the others the last first, then starts all in order", "[supervisor]") {
  journal j;
  const event_outcome o = around(supervisor_options{.strategy = restart_strategy::one_for_all}, three_workers(j),
                                 &j, crash_one("b", {"a", "b", "c"}));
  CHECK(j.lines == std::vector<std::string>{"end b", "end c", "end a", "start a", "start b", "start c",
                                            "end c", "end b", "end a"});
  REQUIRE(o.downs.size() == 3);
  CHECK(o.downs[0].reason.kind == exit_kind::exception);
  CHECK(o.downs[1].reason == shutdown_reason());  // c, then a: stopped with the exit signal
  CHECK(o.downs[1].process == o.before[2].process);
  CHECK(o.downs[2].process == o.before[0].process);
  REQUIRE(o.after.size() == 3);
  for (std::size_t i = 0; i < 3; ++i) {
    CHECK(o.after[i].id == o.before[i].id);
    CHECK(o.after[i].process != o.before[i].process);
    CHECK_FALSE(o.after[i].process.is_null());
  }
}

TEST_CASE("supervisor: rest_for_one restarts the child that ended and those started after it", "[supervisor]") {
  journal j;
  // c is stopped for b's restart: once it has ended, b and c have been started again.
  const event_outcome o = around(supervisor_options{.strategy = restart_strategy::rest_for_one}, three_workers(j),
                                 &j, crash_one("b", {"c"}));
  CHECK(j.lines == std::vector<std::string>{"end b", "end c", "start b", "start c", "end c", "end b", "end a"});
  REQUIRE(o.after.size() == 3);
  CHECK(o.after[0].process == o.before[0].process);
  CHECK(o.after[1].process != o.before[1].process);
  CHECK(o.after[2].process != o.before[2].process);
}

TEST_CASE("supervisor: permanent children are restarted after a normal end, transient only after an abnormal one, "
          "temporary never",
          "[supervisor]") {
  std::vector<child_spec> specs{worker_spec("p", nullptr), worker_spec("t1", nullptr, restart_type::transient),
                                worker_spec("t2", nullptr, restart_type::transient),
                                worker_spec("tmp", nullptr, restart_type::temporary)};
  const event_outcome o =
      around(supervisor_options{}, std::move(specs), nullptr, [](context self, const std::vector<child_info>& before) {
        for (const child_info& c : before) self.monitor(c.process);
        self.send(pid_of(before, "p"), quit{});
        self.send(pid_of(before, "t1"), quit{});
        self.send(pid_of(before, "t2"), crash{});
        self.send(pid_of(before, "tmp"), crash{});
        return 4;
      });
  REQUIRE(o.before.size() == 4);
  REQUIRE(o.after.size() == 3);  // tmp is forgotten
  CHECK_FALSE(has(o.after, "tmp"));
  CHECK(pid_of(o.after, "p") != pid_of(o.before, "p"));
  CHECK_FALSE(pid_of(o.after, "p").is_null());
  CHECK(pid_of(o.after, "t1").is_null());  // ended normally: kept, not running
  CHECK(pid_of(o.after, "t2") != pid_of(o.before, "t2"));
  CHECK_FALSE(pid_of(o.after, "t2").is_null());
  CHECK(o.after[1].restart == restart_type::transient);
}

TEST_CASE("supervisor: past the restart intensity it stops its children and ends with an abnormal reason",
          "[supervisor]") {
  node n({.threads = 1});
  n.on_error({});
  journal j;
  pid sup = n.spawn(supervise, supervisor_options{.max_restarts = 2, .within = 10s}, three_workers(j));
  down sup_down;
  std::vector<down> others;
  n.spawn([&](context self) -> process {
    monitor_ref watch_sup = self.monitor(sup);
    auto kids = co_await self.request<std::vector<child_info>>(sup, which_children{}, 1s);
    REQUIRE(kids);
    self.monitor(pid_of(*kids, "a"));
    self.monitor(pid_of(*kids, "c"));
    for (int i = 0; i < 3; ++i) {  // the third crash is one restart too many
      auto now = co_await self.request<std::vector<child_info>>(sup, which_children{}, 1s);
      REQUIRE(now);
      const pid b = pid_of(*now, "b");
      monitor_ref ref = self.monitor(b);
      self.send(b, crash{});
      auto d = co_await self.receive_if([ref](const message& m) { return m.is<down>() && m.as<down>().ref == ref; }, 1s);
      REQUIRE(d);
    }
    for (int i = 0; i < 3; ++i) {
      auto d = co_await self.receive<down>(1s);
      REQUIRE(d);
      if ((*d)->ref == watch_sup)
        sup_down = **d;
      else
        others.push_back(**d);
    }
  });
  REQUIRE(coactor_test::run_within(n));
  CHECK(sup_down.process == sup);
  CHECK(sup_down.reason == restart_intensity_exceeded());
  CHECK(sup_down.reason.kind == exit_kind::other);
  REQUIRE(others.size() == 2);  // c, then a, before the supervisor
  CHECK(others[0].reason == shutdown_reason());
  CHECK(others[1].reason == shutdown_reason());
  CHECK(j.lines.back() == "end a");
}

TEST_CASE("supervisor: restarts further apart than the period do not add up", "[supervisor]") {
  node n({.threads = 1});
  n.on_error({});
  pid sup = n.spawn(supervise, supervisor_options{.max_restarts = 1, .within = 30ms},
                    std::vector<child_spec>{worker_spec("a", nullptr)});
  bool alive = false;
  int restarts_seen = 0;
  n.spawn([&](context self) -> process {
    for (int i = 0; i < 4; ++i) {
      auto now = co_await self.request<std::vector<child_info>>(sup, which_children{}, 1s);
      REQUIRE(now);
      const pid a = pid_of(*now, "a");
      self.monitor(a);
      self.send(a, crash{});
      auto gone = co_await self.receive<down>(1s);
      REQUIRE(gone);
      auto after = co_await self.request<std::vector<child_info>>(sup, which_children{}, 1s);
      REQUIRE(after);  // restarted (the restart is counted by now)
      if (pid_of(*after, "a") != a && !pid_of(*after, "a").is_null()) ++restarts_seen;
      co_await self.sleep(40ms);
    }
    auto last = co_await self.request<std::vector<child_info>>(sup, which_children{}, 1s);
    alive = static_cast<bool>(last);
    self.exit(sup, shutdown_reason());
  });
  REQUIRE(coactor_test::run_within(n));
  CHECK(restarts_seen == 4);
  CHECK(alive);
}

TEST_CASE("supervisor: nested, a child supervisor that gives up is restarted by its parent", "[supervisor]") {
  node n({.threads = 1});
  n.on_error({});
  journal j;
  std::vector<child_spec> inner{worker_spec("y", &j)};
  std::vector<child_spec> outer{worker_spec("x", &j),
                                supervisor_child("sub", supervisor_options{.max_restarts = 1}, std::move(inner))};
  pid top = n.spawn(supervise, supervisor_options{}, std::move(outer));
  std::vector<child_info> top_before, top_after, sub_after;
  exit_reason sub_end;
  pid first_y, last_y;
  n.spawn([&](context self) -> process {
    auto kids = co_await self.request<std::vector<child_info>>(top, which_children{}, 1s);
    REQUIRE(kids);
    top_before = *kids;
    const pid sub = pid_of(top_before, "sub");
    monitor_ref watch_sub = self.monitor(sub);
    for (int i = 0; i < 2; ++i) {  // the second crash is too many for sub (max_restarts = 1)
      auto sub_kids = co_await self.request<std::vector<child_info>>(sub, which_children{}, 1s);
      REQUIRE(sub_kids);
      const pid y = pid_of(*sub_kids, "y");
      if (i == 0) first_y = y;
      self.monitor(y);
      self.send(y, crash{});
      auto gone = co_await self.receive_if([y](const message& m) { return m.is<down>() && m.as<down>().process == y; }, 1s);
      REQUIRE(gone);
    }
    auto d = co_await self.receive_if(
        [watch_sub](const message& m) { return m.is<down>() && m.as<down>().ref == watch_sub; }, 1s);
    REQUIRE(d);
    sub_end = d->as<down>().reason;
    auto again = co_await self.request<std::vector<child_info>>(top, which_children{}, 1s);
    REQUIRE(again);
    top_after = *again;
    auto inner_now = co_await self.request<std::vector<child_info>>(pid_of(top_after, "sub"), which_children{}, 1s);
    REQUIRE(inner_now);
    sub_after = *inner_now;
    last_y = pid_of(sub_after, "y");
    self.exit(top, shutdown_reason());
  });
  REQUIRE(coactor_test::run_within(n));
  CHECK(sub_end == restart_intensity_exceeded());
  REQUIRE(top_after.size() == 2);
  CHECK(pid_of(top_after, "x") == pid_of(top_before, "x"));  // one_for_one: x is untouched
  CHECK(pid_of(top_after, "sub") != pid_of(top_before, "sub"));
  CHECK_FALSE(last_y.is_null());
  CHECK(last_y != first_y);
  // y: started, crashed, restarted, crashed; the new sub starts a new y; the shutdown ends them all.
  CHECK(j.lines == std::vector<std::string>{"start x", "start y", "end y", "start y", "end y", "start y", "end y",
                                            "end x"});
}

TEST_CASE("supervisor: a restarted child's name names the new process", "[supervisor]") {
  node n({.threads = 1});
  n.on_error({});
  pid sup = n.spawn(supervise, supervisor_options{},
                    std::vector<child_spec>{worker_spec("echo", nullptr, restart_type::permanent, "echo")});
  pid first, second, listed;
  n.spawn([&](context self) -> process {
    const process_name echo{"", "echo"};
    auto r1 = co_await self.request<pid>(echo, who{}, 1s);
    REQUIRE(r1);
    first = *r1;
    self.monitor(first);
    self.send(echo, crash{});
    auto gone = co_await self.receive<down>(1s);
    REQUIRE(gone);
    auto kids = co_await self.request<std::vector<child_info>>(sup, which_children{}, 1s);
    REQUIRE(kids);
    listed = pid_of(*kids, "echo");
    auto r2 = co_await self.request<pid>(echo, who{}, 1s);
    REQUIRE(r2);
    second = *r2;
    self.exit(sup, shutdown_reason());
  });
  REQUIRE(coactor_test::run_within(n));
  CHECK(second != first);
  CHECK(second == listed);
  CHECK_FALSE(n.whereis("echo"));  // freed when the supervisor stopped it
}

TEST_CASE("supervisor: killing it takes its children down, a child supervisor stops its own first",
          "[supervisor]") {
  node n({.threads = 1});
  n.on_error({});
  std::vector<child_spec> inner{worker_spec("y", nullptr)};
  std::vector<child_spec> outer{worker_spec("x", nullptr), supervisor_child("sub", supervisor_options{}, std::move(inner))};
  pid top = n.spawn(supervise, supervisor_options{}, std::move(outer));
  std::vector<down> downs;
  pid x, sub, y;
  n.spawn([&](context self) -> process {
    auto kids = co_await self.request<std::vector<child_info>>(top, which_children{}, 1s);
    REQUIRE(kids);
    x = pid_of(*kids, "x");
    sub = pid_of(*kids, "sub");
    auto sub_kids = co_await self.request<std::vector<child_info>>(sub, which_children{}, 1s);
    REQUIRE(sub_kids);
    y = pid_of(*sub_kids, "y");
    for (const pid& p : {top, x, sub, y}) self.monitor(p);
    self.kill(top);
    for (int i = 0; i < 4; ++i) {
      auto d = co_await self.receive<down>(1s);
      REQUIRE(d);
      downs.push_back(**d);
    }
  });
  REQUIRE(coactor_test::run_within(n));
  REQUIRE(downs.size() == 4);
  auto reason_of = [&](const pid& p) {
    for (const down& d : downs)
      if (d.process == p) return d.reason;
    return exit_reason::because("no down message");
  };
  CHECK(reason_of(top).kind == exit_kind::killed);
  CHECK(reason_of(x).kind == exit_kind::killed);    // through the link
  CHECK(reason_of(sub).kind == exit_kind::killed);  // trapped the link's signal, stopped y, ended with it
  CHECK(reason_of(y) == shutdown_reason());
  CHECK(n.stats().processes == 0);
}

TEST_CASE("supervisor: a child that cannot be started ends the supervisor after stopping the others",
          "[supervisor]") {
  node n({.threads = 1});
  n.on_error({});
  journal j;
  std::vector<child_spec> specs{worker_spec("a", &j), worker_spec("b", &j)};
  specs[1].start = [](context) -> process { throw std::runtime_error("no resources"); };
  down got;
  n.spawn([&](context self) -> process {
    pid sup = self.spawn(supervise, supervisor_options{}, std::move(specs));
    self.monitor(sup);  // before it runs
    auto d = co_await self.receive<down>(1s);
    REQUIRE(d);
    got = **d;
  });
  REQUIRE(coactor_test::run_within(n));
  CHECK(got.reason == exit_reason::because("cannot start child 'b': no resources"));
  CHECK(j.lines == std::vector<std::string>{"start a"});  // stopped before it first ran
  CHECK(n.stats().processes == 0);
}

TEST_CASE("supervisor: a child's name still held by its previous instance is registered once that one ends",
          "[supervisor]") {
  // The holder ends a little after the start: the supervisor waits for it instead of failing.
  node n({.threads = 1});
  n.on_error({});
  pid listed, named;
  n.spawn([&](context self) -> process {
    pid holder = self.spawn([](context s) -> process { co_await s.sleep(50ms); });
    REQUIRE(self.node().register_name("w", holder));
    pid sup = self.spawn(supervise, supervisor_options{},
                         std::vector<child_spec>{worker_spec("w", nullptr, restart_type::permanent, "w")});
    auto kids = co_await self.request<std::vector<child_info>>(sup, which_children{}, 5s);
    REQUIRE(kids);
    listed = pid_of(*kids, "w");
    named = self.node().whereis("w").value();
    self.exit(sup, shutdown_reason());
  });
  REQUIRE(coactor_test::run_within(n));
  CHECK(named == listed);
}

TEST_CASE("supervisor: on two threads, workers crashed at random keep serving requests by name", "[supervisor][threads]") {
  node n({.threads = 2});
  n.on_error({});
  std::vector<child_spec> specs;
  for (int i = 0; i < 4; ++i) {
    const std::string id = "w" + std::to_string(i);
    specs.push_back(worker_spec(id, nullptr, restart_type::permanent, id));
  }
  pid sup = n.spawn(supervise, supervisor_options{.max_restarts = 1000}, std::move(specs));
  struct tally {
    int ok = 0;
    int failed = 0;
  };
  std::vector<tally> clients(3);
  std::atomic<int> crashes{0};
  std::vector<child_info> final_children;
  std::vector<pid> final_names;
  exit_reason sup_end;
  n.spawn([&](context self) -> process {
    std::vector<pid> client_pids;
    for (tally& t : clients) {
      client_pids.push_back(self.spawn([&t](context c) -> process {
        for (int i = 0; i < 200; ++i) {
          const process_name target{"", "w" + std::to_string(i % 4)};
          auto r = co_await c.request<pid>(target, who{}, 1s);
          r ? ++t.ok : ++t.failed;
        }
      }));
    }
    pid chaos = self.spawn([&](context c) -> process {
      for (int i = 0; i < 40; ++i) {
        c.send(process_name{"", "w" + std::to_string(i * 7 % 4)}, crash{});
        ++crashes;
        co_await c.sleep(1ms);
      }
    });
    for (const pid& p : client_pids) self.monitor(p);
    self.monitor(chaos);
    for (int i = 0; i < 4; ++i) static_cast<void>(co_await self.receive<down>(30s));
    // Settled: every worker runs and its name names it.
    for (int attempt = 0; attempt < 100; ++attempt) {
      auto kids = co_await self.request<std::vector<child_info>>(sup, which_children{}, 1s);
      if (!kids) break;
      final_children = *kids;
      final_names.clear();
      bool settled = true;
      for (const child_info& c : final_children) {
        auto found = self.node().whereis(c.name);
        final_names.push_back(found ? *found : pid{});
        settled = settled && !c.process.is_null() && found && *found == c.process;
      }
      if (settled) break;
      co_await self.sleep(5ms);
    }
    self.monitor(sup);
    self.exit(sup, shutdown_reason());
    auto d = co_await self.receive<down>(5s);
    if (d) sup_end = (*d)->reason;
  });
  REQUIRE(coactor_test::run_within(n, 60s));
  int ok = 0;
  for (const tally& t : clients) {
    CHECK(t.ok + t.failed == 200);
    ok += t.ok;
  }
  CHECK(ok > 0);
  CHECK(crashes == 40);
  REQUIRE(final_children.size() == 4);
  for (std::size_t i = 0; i < 4; ++i) {
    CHECK_FALSE(final_children[i].process.is_null());
    CHECK(final_names[i] == final_children[i].process);
  }
  CHECK(sup_end == shutdown_reason());
  CHECK(n.stats().processes == 0);
}
