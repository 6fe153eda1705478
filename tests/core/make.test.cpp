// make<T>(fields...): the message is built in its envelope, from the arguments, wherever a message is
// taken (send, request, reply, node::send); aggregates with braces, other types with a constructor.
#include "support.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using namespace coactor;
using namespace coactor_test;

namespace make_test {

/// Counts how it was made: copies and moves of it.
struct tally {
  int copies = 0;
  int moves = 0;
  tally() = default;
  tally(const tally& o) : copies(o.copies + 1), moves(o.moves) {}
  tally(tally&& o) noexcept : copies(o.copies), moves(o.moves + 1) {}
  tally& operator=(const tally&) = default;  // keeps the counts of what it is assigned
};

struct labelled {
  std::string label;
  tally made;
};

struct put {
  std::string key;
  std::string value;
};

}  // namespace make_test

using namespace make_test;

TEST_CASE("make<T>: the message is built in place, with no copy or move of it", "[make]") {
  node n({.threads = 1});
  tally made_in_place, made_braced;
  std::string label;
  pid sink = n.spawn([&](context self) -> process {
    auto first = co_await self.receive<labelled>();
    label = first->label;
    made_in_place = first->made;
    auto second = co_await self.receive<labelled>();
    made_braced = second->made;
  });
  n.spawn([&](context self) -> process {
    const tally t;
    self.send(sink, coactor::make<labelled>("in place", t));  // t is copied into the field, once
    self.send(sink, labelled{"braced", t});                   // and then the whole struct is moved in
    co_return;
  });
  REQUIRE(run_within(n));
  CHECK(label == "in place");
  CHECK(made_in_place.copies == 1);
  CHECK(made_in_place.moves == 0);
  CHECK(made_braced.copies == 1);
  CHECK(made_braced.moves == 1);
}

TEST_CASE("make<T>: request, reply and node::send take it too, and long strings survive", "[make]") {
  node n({.threads = 1});
  pid store = n.spawn([](context self) -> process {
    for (;;) {
      message m = co_await self.receive();
      if (m.is<quit>()) co_return;
      const put& p = m.as<put>();
      self.reply(m, coactor::make<put>(p.value, p.key));  // answers with the fields swapped
    }
  });
  const std::string key(100, 'k'), value(200, 'v');
  bool swapped = false, from_outside = false;
  pid reader = n.spawn([&](context self) -> process {
    auto p = co_await self.receive<put>(5s);
    from_outside = p && (*p)->key == "outside" && (*p)->value == value;
  });
  n.spawn([&](context self) -> process {
    auto r = co_await self.request<put>(store, coactor::make<put>(key, value), 5s);
    swapped = r && r->key == value && r->value == key;
    self.send(store, quit{});
  });
  n.send(reader, coactor::make<put>("outside", value));
  REQUIRE(run_within(n));
  CHECK(swapped);
  CHECK(from_outside);
}

TEST_CASE("make<T>: a type with constructors is built with them, not with braces", "[make]") {
  node n({.threads = 1});
  std::vector<int> got;
  pid sink = n.spawn([&](context self) -> process {
    auto v = co_await self.receive<std::vector<int>>();
    got = *v;
  });
  n.spawn([&](context self) -> process {
    self.send(sink, coactor::make<std::vector<int>>(3u, 7));  // three sevens, not {3, 7}
    co_return;
  });
  REQUIRE(run_within(n));
  CHECK(got == std::vector<int>{7, 7, 7});
}
