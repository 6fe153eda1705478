// The registry class (detail/registry.hpp) alone: the names, their errors, and the claim and release
// callbacks through which a node marks its processes. The node's use of it is in registry.test.cpp.
#include <coactor/detail/registry.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

using namespace coactor;
using coactor::detail::registry;

namespace {

/// Claims a process that is alive and has no name yet, as node_core's claim does with the table.
struct fake_process {
  bool alive = true;
  bool named = false;
  errc claim() {
    if (!alive) return errc::dead_process;
    if (named) return errc::already_registered;
    named = true;
    return errc{};
  }
};

}  // namespace

TEST_CASE("registry: a name is entered, found, and freed", "[registry][core]") {
  registry r;
  const pid a(1, 11, 0), b(1, 22, 1);
  fake_process pa, pb;
  REQUIRE(r.register_name("alpha", a, [&] { return pa.claim(); }));
  CHECK(pa.named);
  REQUIRE(r.register_name("beta", b, [&] { return pb.claim(); }));
  CHECK(*r.whereis("alpha") == a);
  CHECK(*r.whereis("beta") == b);

  pid released;
  REQUIRE(r.unregister_name("alpha", [&](const pid& p) {
    released = p;
    pa.named = false;
  }));
  CHECK(released == a);
  CHECK(r.whereis("alpha").error() == errc::no_such_name);
  CHECK(*r.whereis("beta") == b);  // untouched

  REQUIRE(r.register_name("alpha", a, [&] { return pa.claim(); }));  // a may be named again
  CHECK(*r.whereis("alpha") == a);
}

TEST_CASE("registry: a taken name is refused without claiming, a failed claim enters nothing", "[registry][core]") {
  registry r;
  const pid a(1, 11, 0), b(1, 22, 1), c(1, 33, 2);
  fake_process pa, pb, pc;
  REQUIRE(r.register_name("alpha", a, [&] { return pa.claim(); }));

  bool claimed = false;
  auto taken = r.register_name("alpha", b, [&] {
    claimed = true;
    return pb.claim();
  });
  REQUIRE_FALSE(taken);
  CHECK(taken.error() == errc::name_taken);
  CHECK(taken.error().detail() == "'alpha' is " + a.to_string());
  CHECK_FALSE(claimed);
  CHECK_FALSE(pb.named);

  auto second = r.register_name("again", a, [&] { return pa.claim(); });  // a has a name already
  REQUIRE_FALSE(second);
  CHECK(second.error() == errc::already_registered);
  CHECK(second.error().detail() == a.to_string() + " cannot also be 'again'");
  CHECK(r.whereis("again").error() == errc::no_such_name);

  pc.alive = false;
  auto dead = r.register_name("gamma", c, [&] { return pc.claim(); });
  REQUIRE_FALSE(dead);
  CHECK(dead.error() == errc::dead_process);
  CHECK(dead.error().detail() == c.to_string());
  CHECK(r.whereis("gamma").error() == errc::no_such_name);

  // Neither failure left anything behind: both names are free for b.
  REQUIRE(r.register_name("gamma", b, [&] { return pb.claim(); }));
  CHECK(*r.whereis("gamma") == b);
}

TEST_CASE("registry: unregistering a name nobody holds releases nobody", "[registry][core]") {
  registry r;
  bool released = false;
  auto missing = r.unregister_name("nobody", [&](const pid&) { released = true; });
  REQUIRE_FALSE(missing);
  CHECK(missing.error() == errc::no_such_name);
  CHECK(missing.error().detail() == "nobody");
  CHECK_FALSE(released);
}

TEST_CASE("registry: the name of an ended process is freed, other names stay", "[registry][core][lifecycle]") {
  registry r;
  const pid a(1, 11, 0), b(1, 22, 1);
  fake_process pa, pb;
  REQUIRE(r.register_name("alpha", a, [&] { return pa.claim(); }));
  REQUIRE(r.register_name("beta", b, [&] { return pb.claim(); }));

  r.process_ended(a.id());
  CHECK(r.whereis("alpha").error() == errc::no_such_name);
  CHECK(*r.whereis("beta") == b);
  r.process_ended(a.id());  // no name any more: nothing happens
  r.process_ended(999);     // never had one: nothing happens
  CHECK(*r.whereis("beta") == b);

  // The name is free, and the id no longer leads to it: a later process_ended(a) does not free it.
  const pid c(1, 33, 0);
  fake_process pc;
  REQUIRE(r.register_name("alpha", c, [&] { return pc.claim(); }));
  r.process_ended(a.id());
  CHECK(*r.whereis("alpha") == c);
}

TEST_CASE("registry: threads racing for names, while their holders end, leave it consistent", "[registry][core][threads]") {
  registry r;
  constexpr int threads = 4, rounds = 300;
  std::atomic<int> wins{0};
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t)
    workers.emplace_back([&, t] {
      for (int i = 0; i < rounds; ++i) {
        // Every thread wants the same name each round; each thread's process per round is distinct.
        const pid me(1, static_cast<std::uint64_t>(t * rounds + i + 1), static_cast<std::uint32_t>(t));
        const std::string name = "round-" + std::to_string(i);
        if (r.register_name(name, me, [] { return errc{}; })) {
          ++wins;
          auto held = r.whereis(name);
          if (!held || *held != me) std::abort();  // nobody may take a held name
          r.process_ended(me.id());
        }
      }
    });
  for (auto& w : workers) w.join();
  CHECK(wins >= rounds);  // each name was won at least once (a freed name may be won again)
  for (int i = 0; i < rounds; ++i) CHECK_FALSE(r.whereis("round-" + std::to_string(i)));
}
