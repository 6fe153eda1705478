// Bounded mailboxes (context::limit_mailbox) and the three things a sender can do when one is full:
// send() drops and reports, try_send() fails with errc::queue_full, send_when_room() waits its turn.
// Replies are never refused, so a limited process can still make requests.
#include <coactor/coactor.hpp>

#include "support.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using namespace coactor;
using namespace std::chrono_literals;

namespace bounded_mailbox_test {
struct item {
  int n;
};
struct drain {};
}  // namespace bounded_mailbox_test

using namespace bounded_mailbox_test;

TEST_CASE("bounded mailbox: send drops and reports, try_send fails, a request fails with queue_full",
          "[mailbox][back-pressure]") {
  node n({.threads = 1});
  coactor_test::error_log errors(n);
  std::vector<int> got;
  std::vector<errc> tried;
  result<message> request_result = message{};
  std::size_t length = 0;
  pid slow = n.spawn([&](context self) -> process {
    self.limit_mailbox(3);
    co_await self.sleep(20ms);  // the sender fills the mailbox meanwhile
    length = self.mailbox_length();
    for (;;) {
      auto m = co_await self.receive<item>(50ms);
      if (!m) co_return;
      got.push_back((*m)->n);
    }
  });
  n.spawn([&, slow](context self) -> process {
    co_await self.yield_now();  // the limit is set
    for (int i = 0; i < 3; ++i) self.send(slow, item{i});  // fills it
    self.send(slow, item{100});                            // dropped and reported
    auto t = self.try_send(slow, item{101});
    tried.push_back(t ? errc{} : errc::queue_full);
    request_result = co_await self.request(slow, item{102}, 1s);  // refused at once, not timed out
  });
  n.run();
  CHECK(got == std::vector<int>{0, 1, 2});
  CHECK(tried == std::vector<errc>{errc::queue_full});
  REQUIRE_FALSE(request_result);
  CHECK(request_result.error() == errc::queue_full);
  CHECK(n.stats().dead_letters >= 1);
  bool reported = false;
  for (const auto& e : errors.entries())
    if (e.code == make_error_code(errc::queue_full)) reported = true;
  CHECK(reported);
  CHECK(length == 3);
}

TEST_CASE("bounded mailbox: send_when_room waits for a place, in the order the senders came", "[mailbox][back-pressure]") {
  node n({.threads = 1});
  std::vector<int> got;
  std::vector<bool> sent;
  pid consumer = n.spawn([&](context self) -> process {
    self.limit_mailbox(2);
    co_await self.sleep(20ms);  // the producers fill the mailbox and wait
    for (;;) {
      auto m = co_await self.receive<item>(100ms);
      if (!m) co_return;
      got.push_back((*m)->n);
      co_await self.sleep(1ms);
    }
  });
  for (int p = 0; p < 3; ++p)
    n.spawn([&, consumer, p](context self) -> process {
      co_await self.yield_now();
      for (int i = 0; i < 5; ++i) {
        auto r = co_await self.send_when_room(consumer, item{p * 100 + i}, 5s);
        sent.push_back(static_cast<bool>(r));
      }
    });
  n.run();
  CHECK(sent.size() == 15);
  for (bool s : sent) CHECK(s);
  REQUIRE(got.size() == 15);
  // Each producer's items in its order.
  for (int p = 0; p < 3; ++p) {
    int next = p * 100;
    for (int v : got)
      if (v / 100 == p) CHECK(v == next++);
  }
}

TEST_CASE("bounded mailbox: send_when_room times out with queue_full, or fails when the target ends",
          "[mailbox][back-pressure]") {
  node n({.threads = 1});
  std::vector<std::string> outcomes;
  pid stuck = n.spawn([](context self) -> process {
    self.limit_mailbox(1);
    static_cast<void>(co_await self.receive<drain>(200ms));  // never takes an item; ends after 200 ms
  });
  n.spawn([&, stuck](context self) -> process {
    co_await self.yield_now();
    self.send(stuck, item{0});  // fills it
    auto r1 = co_await self.send_when_room(stuck, item{1}, 20ms);
    outcomes.push_back(r1 ? "sent" : std::string(r1.error() == errc::queue_full ? "queue_full" : "other"));
    auto r2 = co_await self.send_when_room(stuck, item{2}, 5s);  // until stuck ends
    outcomes.push_back(r2 ? "sent" : std::string(r2.error() == errc::dead_process ? "dead_process" : "other"));
  });
  n.run();
  CHECK(outcomes == std::vector<std::string>{"queue_full", "dead_process"});
}

TEST_CASE("bounded mailbox: a limited process still gets its replies and down messages", "[mailbox][back-pressure]") {
  node n({.threads = 1});
  bool replied = false, downed = false;
  pid server = n.spawn([](context self) -> process {
    message m = co_await self.receive();
    self.reply(m, std::string("ok"));
  });
  n.spawn([&, server](context self) -> process {
    self.limit_mailbox(1);
    pid me = self.pid();
    self.spawn([me](context s) -> process {
      s.send(me, item{1});  // fills it
      co_return;
    });
    co_await self.sleep(5ms);
    self.monitor(server);
    auto r = co_await self.request<std::string>(server, item{2}, 1s);
    replied = r && *r == "ok";
    auto d = co_await self.receive<down>(1s);
    downed = static_cast<bool>(d);
  });
  n.run();
  CHECK(replied);
  CHECK(downed);
}
