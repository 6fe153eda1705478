// The registry of names: register, whereis, unregister, and its failures.
#include "support.hpp"

#include <catch2/catch.hpp>

#include <string>

using namespace coactor;
using namespace coactor_test;

namespace {

process wait_for_quit(context self) { (void)co_await self.receive<quit>(); }

}  // namespace

TEST_CASE("register_name, whereis and unregister_name", "[registry]") {
  node n({.threads = 1});
  error_log errors(n);
  pid a = n.spawn(wait_for_quit);
  pid b = n.spawn(wait_for_quit);

  REQUIRE(n.register_name("alpha", a));
  auto found = n.whereis("alpha");
  REQUIRE(found);
  CHECK(*found == a);

  auto taken = n.register_name("alpha", b);
  REQUIRE_FALSE(taken);
  CHECK(taken.error() == errc::name_taken);
  CHECK(*n.whereis("alpha") == a);  // unchanged

  auto second = n.register_name("beta", a);
  REQUIRE_FALSE(second);
  CHECK(second.error() == errc::already_registered);
  CHECK_FALSE(n.whereis("beta"));

  REQUIRE(n.register_name("beta", b));
  CHECK(*n.whereis("beta") == b);

  auto missing = n.whereis("gamma");
  REQUIRE_FALSE(missing);
  CHECK(missing.error() == errc::no_such_name);

  REQUIRE(n.unregister_name("alpha"));
  CHECK(n.whereis("alpha").error() == errc::no_such_name);
  auto again = n.unregister_name("alpha");
  REQUIRE_FALSE(again);
  CHECK(again.error() == errc::no_such_name);

  // Once unregistered, the process may take a (new) name, and the old name is free for another.
  REQUIRE(n.register_name("alpha2", a));
  CHECK(*n.whereis("alpha2") == a);

  auto remote = n.register_name("far", pid(n.incarnation() + 1, 77, 0));
  REQUIRE_FALSE(remote);
  CHECK(remote.error() == errc::not_local);

  auto made_up = n.register_name("ghost", pid(n.incarnation(), 77, 1));
  REQUIRE_FALSE(made_up);
  CHECK(made_up.error() == errc::dead_process);

  n.send(a, quit{});
  n.send(b, quit{});
  REQUIRE(run_within(n));
  CHECK(errors.size() == 0);
}

TEST_CASE("a registered name is freed when its process ends", "[registry][lifecycle]") {
  const unsigned threads = GENERATE(1u, 2u);
  CAPTURE(threads);
  node n({.threads = threads});
  error_log errors(n);
  pid first = n.spawn(wait_for_quit);
  REQUIRE(n.register_name("server", first));
  n.send(first, quit{});
  REQUIRE(run_within(n));
  CHECK(n.stats().processes == 0);

  auto gone = n.whereis("server");
  REQUIRE_FALSE(gone);
  CHECK(gone.error() == errc::no_such_name);
  auto dead = n.register_name("other", first);
  REQUIRE_FALSE(dead);
  CHECK(dead.error() == errc::dead_process);

  pid second = n.spawn(wait_for_quit);
  REQUIRE(n.register_name("server", second));  // the name can be taken again
  CHECK(*n.whereis("server") == second);
  n.send(second, quit{});
  REQUIRE(run_within(n));
  CHECK_FALSE(n.whereis("server"));
  CHECK(errors.size() == 0);
}

TEST_CASE("processes register themselves and find each other by name", "[registry]") {
  node n({.threads = 2});
  error_log errors(n);
  std::atomic<int> answer{0};
  std::atomic<bool> second_name_refused{false};
  std::atomic<bool> taken_refused{false};
  n.spawn([&](context self) -> process {
    auto r = self.register_as("doubler");
    if (!r) co_return;
    second_name_refused = self.register_as("again").error() == errc::already_registered;
    for (;;) {
      message m = co_await self.receive();
      if (m.is<quit>()) co_return;
      self.reply(m, m.as<int>() * 2);
    }
  });
  n.spawn([&](context self) -> process {
    result<pid> server = self.node().whereis("doubler");
    while (!server) {
      co_await self.sleep(1ms);
      server = self.node().whereis("doubler");
    }
    taken_refused = self.register_as("doubler").error() == errc::name_taken;
    auto r = co_await self.request<int>(*server, 21, 10s);
    answer = r ? *r : -1;
    self.send(*server, quit{});
  });
  REQUIRE(run_within(n));
  CHECK(answer == 42);
  CHECK(second_name_refused);
  CHECK(taken_refused);
  CHECK_FALSE(n.whereis("doubler"));
  CHECK(errors.size() == 0);
}

TEST_CASE("many processes race to register one name: exactly one wins", "[registry][threads]") {
  node n({.threads = 4});
  error_log errors(n);
  constexpr int contenders = 40;
  std::atomic<int> wins{0}, taken{0}, other{0};
  pid holder_seen;
  std::mutex m;
  for (int i = 0; i < contenders; ++i)
    n.spawn([&](context self) -> process {
      auto r = self.register_as("leader");
      if (r) {
        ++wins;
        std::lock_guard lock(m);
        holder_seen = self.pid();
      } else {
        (r.error() == errc::name_taken ? taken : other)++;
      }
      // Stay alive until everyone has tried, so the name stays held.
      while (wins + taken + other < contenders) co_await self.sleep(1ms);
    });
  REQUIRE(run_within(n));
  CHECK(wins == 1);
  CHECK(taken == contenders - 1);
  CHECK(other == 0);
  CHECK_FALSE(n.whereis("leader"));  // everyone ended
  CHECK(errors.size() == 0);
}

TEST_CASE("send and request by name reach whoever holds the name when the message arrives", "[registry][name]") {
  node n({.threads = 1});
  error_log errors(n);
  std::vector<int> answers;
  std::vector<pid> repliers;
  auto server = [](context self, int factor) -> process {
    for (;;) {
      message m = co_await self.receive();
      if (m.is<quit>()) co_return;
      self.reply(m, m.as<int>() * factor);
    }
  };
  pid first = n.spawn(server, 2);
  REQUIRE(n.register_name("svc", first));
  pid second;
  n.spawn([&](context self) -> process {
    process_name svc{"", "svc"};  // named before the co_await (see context.hpp on g++ 12)
    auto a = co_await self.request<int>(svc, 10, 10s);
    answers.push_back(a ? *a : -1);
    auto m = co_await self.request(svc, 11, 10s);
    if (m) repliers.push_back(m->sender());
    self.send(svc, quit{});  // the first server ends and frees the name
    while (self.node().whereis("svc")) co_await self.sleep(1ms);
    second = self.spawn(server, 3);
    (void)self.node().register_name("svc", second);
    auto b = co_await self.request<int>(svc, 10, 10s);  // the same name, another process now
    answers.push_back(b ? *b : -1);
    self.send(svc, quit{});
  });
  REQUIRE(run_within(n));
  CHECK(answers == std::vector<int>{20, 30});
  CHECK(repliers == std::vector<pid>{first});  // a reply comes from the process itself
  CHECK(n.stats().processes == 0);
  CHECK(errors.size() == 0);
}

TEST_CASE("a name nobody holds: a request fails at once, a send is counted and reported", "[registry][name]") {
  node n({.threads = 1});
  error_log errors(n);
  bool request_failed = false, self_failed = false;
  double elapsed_ms = 1e9;
  n.spawn([&](context self) -> process {
    process_name nobody{"", "nobody"};
    auto start = std::chrono::steady_clock::now();
    auto r = co_await self.request(nobody, 1, 10s);
    elapsed_ms = ms_since(start);
    request_failed = !r && r.error() == errc::no_such_name;
    self.send(nobody, 2);
    (void)self.register_as("me");
    process_name me{"", "me"};
    auto s = co_await self.request(me, 3, 10s);
    self_failed = !s && s.error() == errc::request_to_self;
  });
  REQUIRE(run_within(n));
  CHECK(request_failed);
  CHECK(elapsed_ms < 5000);
  CHECK(self_failed);
  CHECK(n.stats().dead_letters == 1);
  auto reports = errors.of(errc::no_such_name);
  REQUIRE(reports.size() == 1);
  CHECK(reports[0].detail.find("nobody") != std::string::npos);
  CHECK(errors.size() == 1);
}
