// Request/reply: matching a reply to its request, failures (self, dead, unreachable, timeout, wrong
// type), late replies, and requests left unanswered by a process that ends.
#include "support.hpp"

#include <catch2/catch.hpp>

#include <optional>
#include <string>
#include <system_error>
#include <vector>

using namespace coactor;
using namespace coactor_test;

namespace {

/// Answers every request with twice its int, until told to quit.
process doubler(context self) {
  for (;;) {
    message m = co_await self.receive();
    if (m.is<quit>()) co_return;
    self.reply(m, m.as<int>() * 2);
  }
}

}  // namespace

TEST_CASE("a reply is matched to its request, unrelated messages stay queued in order", "[request]") {
  const unsigned threads = GENERATE(1u, 2u);
  CAPTURE(threads);
  node n({.threads = threads});
  error_log errors(n);
  std::string answer;
  std::vector<int> later;
  pid server = n.spawn([](context self) -> process {
    message m = co_await self.receive();
    const pid client = m.sender();
    for (int i = 1; i <= 3; ++i) self.send(client, i);  // before the reply
    self.reply(m, std::string("answer"));
    self.send(client, 4);                                // after it
  });
  n.spawn([&](context self) -> process {
    self.send(self.pid(), 0);  // queued before the request even leaves
    auto r = co_await self.request<std::string>(server, std::string("question"), 10s);
    answer = r ? *r : r.error().message();
    for (int i = 0; i < 5; ++i) later.push_back(*co_await self.receive<int>());
  });
  REQUIRE(run_within(n));
  CHECK(answer == "answer");
  CHECK(later == std::vector<int>{0, 1, 2, 3, 4});
  CHECK(n.stats().stale_replies == 0);
  CHECK(errors.size() == 0);
}

TEST_CASE("an untyped request returns the reply message as it is", "[request]") {
  node n({.threads = 1});
  error_log errors(n);
  bool ok = false;
  pid sender_of_reply;
  pid server = n.spawn(doubler);
  n.spawn([&](context self) -> process {
    result<message> r = co_await self.request(server, 21, 10s);
    ok = r && r->is<int>() && r->as<int>() == 42;
    if (r) sender_of_reply = r->sender();
    self.send(server, quit{});
  });
  REQUIRE(run_within(n));
  CHECK(ok);
  CHECK(sender_of_reply == server);
  CHECK(errors.size() == 0);
}

TEST_CASE("a late reply to an earlier request is not taken for the reply to the current one", "[request]") {
  node n({.threads = 1});
  error_log errors(n);
  bool first_timed_out = false;
  std::string second;
  // slow holds the first request until `go`, replies late, then tells fast it did.
  pid fast;
  pid slow = n.spawn([&](context self) -> process {
    message req = co_await self.receive_if([](const message& m) { return m.is_request(); });
    (void)co_await self.receive<go>();
    self.reply(req, std::string("late"));
    self.send(fast, done{});
  });
  fast = n.spawn([](context self) -> process {
    message req = co_await self.receive_if([](const message& m) { return m.is_request(); });
    (void)co_await self.receive<done>();  // slow's late reply is in the client's mailbox by now
    self.reply(req, std::string("right"));
  });
  n.spawn([&](context self) -> process {
    auto r1 = co_await self.request<std::string>(slow, 1, 20ms);
    first_timed_out = !r1 && r1.error() == errc::timeout;
    self.send(slow, go{});
    auto r2 = co_await self.request<std::string>(fast, 2, 10s);
    second = r2 ? *r2 : r2.error().message();
  });
  REQUIRE(run_within(n));
  CHECK(first_timed_out);
  CHECK(second == "right");
  CHECK(n.stats().stale_replies == 1);
  CHECK(errors.size() == 0);
}

TEST_CASE("a request to self fails at once with errc::request_to_self", "[request]") {
  node n({.threads = 1});
  error_log errors(n);
  bool failed = false;
  bool other_ran_meanwhile = true;
  bool other_ran = false;
  n.spawn([&](context self) -> process {
    auto r = co_await self.request(self.pid(), 1, 10s);
    failed = !r && r.error() == errc::request_to_self;
    other_ran_meanwhile = other_ran;  // it did not even suspend
    auto typed = co_await self.request<int>(self.pid(), 1, 10s);
    failed = failed && !typed && typed.error() == errc::request_to_self;
  });
  n.spawn([&](context) -> process {
    other_ran = true;
    co_return;
  });
  REQUIRE(run_within(n));
  CHECK(failed);
  CHECK_FALSE(other_ran_meanwhile);
  CHECK(n.stats().dead_letters == 0);
  CHECK(errors.size() == 0);
}

TEST_CASE("a request to a dead process fails with errc::dead_process, long before its timeout", "[request]") {
  const unsigned threads = GENERATE(1u, 3u);
  CAPTURE(threads);
  node n({.threads = threads});
  error_log errors(n);
  pid dead = n.spawn([](context) -> process { co_return; });
  bool dead_failed = false, made_up_failed = false, remote_failed = false;
  std::string detail;
  double elapsed_ms = 1e9;
  n.spawn([&](context self) -> process {
    while (self.node().stats().spawned < 2 || self.node().stats().processes > 1) co_await self.sleep(1ms);
    auto start = std::chrono::steady_clock::now();
    auto r = co_await self.request(dead, 1, 10s);
    dead_failed = !r && r.error() == errc::dead_process;
    if (!r) detail = r.error().message();
    // A pid of this node that never existed, and one of a node that is not known at all.
    auto made_up = co_await self.request<int>(pid(self.pid().incarnation(), 12345, 3), 1, 10s);
    made_up_failed = !made_up && made_up.error() == errc::dead_process;
    auto remote = co_await self.request(pid(self.pid().incarnation() + 1, 12345, 0), 1, 10s);
    remote_failed = !remote && remote.error() == errc::unreachable;
    elapsed_ms = ms_since(start);
  });
  REQUIRE(run_within(n));
  CHECK(dead_failed);
  CHECK(detail == "dead process: no process " + dead.to_string());
  CHECK(made_up_failed);
  CHECK(remote_failed);
  CHECK(elapsed_ms < 5000);  // three requests with 10 s timeouts: none waited for its timeout
  CHECK(n.stats().dead_letters == 0);  // failed requests are answered, not dead letters
  CHECK(errors.size() == 0);
}

TEST_CASE("a request times out with errc::timeout, its late reply is dropped and counted", "[request][timeout]") {
  node n({.threads = 1});
  error_log errors(n);
  bool timed_out = false;
  std::string detail;
  double elapsed_ms = 0;
  std::vector<std::string> after;
  pid server = n.spawn([](context self) -> process {
    message req = co_await self.receive_if([](const message& m) { return m.is_request(); });
    (void)co_await self.receive<go>();
    self.reply(req, std::string("too late"));
    self.send(req.sender(), std::string("after the reply"));
  });
  n.spawn([&](context self) -> process {
    auto start = std::chrono::steady_clock::now();
    auto r = co_await self.request<std::string>(server, 1, 25ms);
    elapsed_ms = ms_since(start);
    timed_out = !r && r.error() == errc::timeout;
    if (!r) detail = r.error().message();
    self.send(server, go{});
    // The late reply comes before this message (same sender): a plain receive skips and drops it.
    auto m = co_await self.receive(10s);
    after.push_back(m ? (m->is<std::string>() ? m->as<std::string>() : "other") : "timeout");
    auto none = co_await self.receive(0ns);
    after.push_back(none ? "unexpected" : "empty");
  });
  REQUIRE(run_within(n));
  CHECK(timed_out);
  CHECK(elapsed_ms >= 25.0);
  CHECK(detail == "timeout: no reply from " + server.to_string() + " within 25ms");
  CHECK(after == std::vector<std::string>{"after the reply", "empty"});
  CHECK(n.stats().stale_replies == 1);
  CHECK(n.stats().dead_letters == 0);
  CHECK(errors.size() == 0);
}

TEST_CASE("a zero timeout request sends the request and fails at once unless the reply is there", "[request][timeout]") {
  node n({.threads = 1});
  error_log errors(n);
  bool timed_out = false;
  int later = 0;
  pid server = n.spawn(doubler);
  n.spawn([&](context self) -> process {
    auto r = co_await self.request<int>(server, 5, 0ns);
    timed_out = !r && r.error() == errc::timeout;
    auto check = co_await self.request<int>(server, 6, 10s);  // the first reply is dropped on the way
    later = check ? *check : -1;
    self.send(server, quit{});
  });
  REQUIRE(run_within(n));
  CHECK(timed_out);
  CHECK(later == 12);
  CHECK(n.stats().stale_replies == 1);
  CHECK(errors.size() == 0);
}

TEST_CASE("a late reply still queued when its requester ends counts as stale", "[request][timeout]") {
  node n({.threads = 1});
  error_log errors(n);
  bool replied = false;
  bool timed_out = false;
  pid server = n.spawn([&](context self) -> process {
    message req = co_await self.receive_if([](const message& m) { return m.is_request(); });
    (void)co_await self.receive<go>();
    self.reply(req, 1);
    replied = true;
  });
  n.spawn([&](context self) -> process {
    auto r = co_await self.request<int>(server, 1, 5ms);
    timed_out = !r && r.error() == errc::timeout;
    self.send(server, go{});
    while (!replied) co_await self.sleep(1ms);  // sleeping reads no mail: the reply stays queued
  });
  REQUIRE(run_within(n));
  CHECK(timed_out);
  CHECK(replied);
  const node_stats s = n.stats();
  CHECK(s.stale_replies == 1);
  CHECK(s.unread_dropped == 0);  // a reply is not a message the process failed to read
  CHECK(s.dead_letters == 0);
  CHECK(errors.size() == 0);
}

TEST_CASE("a late reply to a requester that has ended is a dead letter", "[request][timeout]") {
  node n({.threads = 1});
  error_log errors(n);
  pid client;
  pid server = n.spawn([&](context self) -> process {
    message req = co_await self.receive_if([](const message& m) { return m.is_request(); });
    (void)co_await self.receive<go>();
    while (self.node().stats().processes > 1) co_await self.sleep(1ms);  // the client has ended
    self.reply(req, 1);
  });
  client = n.spawn([&](context self) -> process {
    auto r = co_await self.request<int>(server, 1, 5ms);
    CHECK(!r);
    self.send(server, go{});
  });
  REQUIRE(run_within(n));
  CHECK(n.stats().dead_letters == 1);
  auto dead = errors.of(errc::dead_process);
  REQUIRE(dead.size() == 1);
  CHECK(dead[0].who == client);
  CHECK(dead[0].detail.find("reply") != std::string::npos);
}

TEST_CASE("a typed request reads the reply as R, or fails with errc::bad_message", "[request]") {
  node n({.threads = 1});
  error_log errors(n);
  int good = 0;
  bool bad = false;
  std::string bad_detail;
  bool dead_passes_through = false;
  pid server = n.spawn(doubler);
  n.spawn([&](context self) -> process {
    auto r = co_await self.request<int>(server, 4, 10s);
    good = r ? *r : -1;
    auto wrong = co_await self.request<std::string>(server, 4, 10s);  // the reply is an int
    bad = !wrong && wrong.error() == errc::bad_message;
    if (!wrong) bad_detail = wrong.error().detail();
    self.send(server, quit{});
    while (self.node().stats().processes > 1) co_await self.sleep(1ms);
    auto gone = co_await self.request<std::string>(server, 4, 10s);
    dead_passes_through = !gone && gone.error() == errc::dead_process;
  });
  REQUIRE(run_within(n));
  CHECK(good == 8);
  CHECK(bad);
  CHECK(bad_detail == "expected a reply of type " + std::string(coactor::type_name<std::string>()) + ", got " +
                         std::string(coactor::type_name<int>()));
  CHECK(dead_passes_through);
  CHECK(errors.size() == 0);
}

TEST_CASE("a process that ends with requests queued fails them with errc::dead_process", "[request][lifecycle]") {
  const unsigned threads = GENERATE(1u, 2u);
  CAPTURE(threads);
  node n({.threads = threads});
  error_log errors(n);
  constexpr int requesters = 3;
  std::atomic<int> dead_failures{0};
  std::atomic<int> other_results{0};
  std::atomic<long long> slowest_ms{0};
  pid server = n.spawn([](context self) -> process {
    // Wait, without taking anything, until all the requests are queued; then end without answering.
    for (;;) {
      int seen = 0;
      (void)co_await self.receive_if(
          [&](const message& m) {
            if (m.is_request()) ++seen;
            return false;
          },
          0ns);
      if (seen == requesters) co_return;
      co_await self.sleep(1ms);
    }
  });
  for (int i = 0; i < requesters; ++i)
    n.spawn([&](context self) -> process {
      auto start = std::chrono::steady_clock::now();
      auto r = co_await self.request(server, 1, 10s);
      (!r && r.error() == errc::dead_process ? dead_failures : other_results).fetch_add(1);
      const auto ms = static_cast<long long>(ms_since(start));
      long long prev = slowest_ms.load();
      while (prev < ms && !slowest_ms.compare_exchange_weak(prev, ms)) {
      }
    });
  REQUIRE(run_within(n));
  CHECK(dead_failures == requesters);
  CHECK(other_results == 0);
  CHECK(slowest_ms < 5000);
  CHECK(n.stats().unread_dropped == 0);  // requests are answered, not counted as unread
  CHECK(errors.size() == 0);
}

TEST_CASE("requests racing tiny timeouts: every reply is either taken by its own request or counted stale",
          "[request][timeout][race]") {
  const unsigned threads = GENERATE(1u, 2u, 4u);
  CAPTURE(threads);
  node n({.threads = threads});
  error_log errors(n);
  constexpr int count = 3000;
  const duration timeouts[] = {0ns, 1us, 5us, 20us, 100us, 1ms};
  int ok = 0, timed_out = 0, wrong = 0, other = 0;
  pid server = n.spawn([](context self) -> process {
    for (int i = 0;; ++i) {
      message m = co_await self.receive();
      if (m.is<quit>()) co_return;
      if (i % 7 == 0) co_await self.yield_now();  // sometimes reply a little later
      self.reply(m, m.as<int>() * 2);
    }
  });
  n.spawn([&](context self) -> process {
    for (int i = 0; i < count; ++i) {
      auto r = co_await self.request<int>(server, i, timeouts[i % std::size(timeouts)]);
      if (r)
        (*r == 2 * i ? ok : wrong)++;
      else if (r.error() == errc::timeout)
        ++timed_out;
      else
        ++other;
    }
    // The server answers in order: when this reply comes, every earlier reply has been seen.
    auto sync = co_await self.request<int>(server, -1, 10s);
    if (!sync || *sync != -2) ++other;
    self.send(server, quit{});
  });
  REQUIRE(run_within(n, 20s));
  CHECK(wrong == 0);
  CHECK(other == 0);
  CHECK(ok + timed_out == count);
  CHECK(timed_out > 0);  // the zero timeouts at least
  const node_stats s = n.stats();
  CHECK(s.stale_replies == static_cast<std::uint64_t>(timed_out));  // each late reply dropped once
  CHECK(s.dead_letters == 0);
  CHECK(s.unread_dropped == 0);
  CHECK(errors.size() == 0);
}

TEST_CASE("requests can nest: a server asks another server before it replies", "[request]") {
  node n({.threads = 2});
  error_log errors(n);
  std::atomic<int> result_value{0};
  pid back = n.spawn(doubler);
  pid front = n.spawn([back](context self) -> process {
    message m = co_await self.receive();
    auto inner = co_await self.request<int>(back, m.as<int>() + 1, 10s);
    self.reply(m, inner ? *inner : -1);
    self.send(back, quit{});
  });
  n.spawn([&, front](context self) -> process {
    auto r = co_await self.request<int>(front, 20, 10s);
    result_value = r ? *r : -1;
  });
  REQUIRE(run_within(n));
  CHECK(result_value == 42);
  CHECK(errors.size() == 0);
}

TEST_CASE("a forwarded request is answered straight to the original requester", "[request][forward]") {
  const unsigned threads = GENERATE(1u, 2u);
  CAPTURE(threads);
  node n({.threads = threads});
  error_log errors(n);
  std::atomic<int> answer{0};
  std::atomic<bool> reply_from_backend{false};
  std::atomic<bool> proxy_saw_request{false};
  pid backend = n.spawn(doubler);
  pid proxy = n.spawn([backend, &proxy_saw_request](context self) -> process {
    message m = co_await self.receive();
    proxy_saw_request = m.is_request();
    self.forward(backend, std::move(m));  // the sender and the request tag go along unchanged
    (void)co_await self.receive<quit>();
  });
  n.spawn([&, backend, proxy](context self) -> process {
    auto r = co_await self.request(proxy, 21, 10s);
    answer = r && r->is<int>() ? r->as<int>() : -1;
    reply_from_backend = r && r->sender() == backend;
    self.send(proxy, quit{});
    self.send(backend, quit{});
  });
  REQUIRE(run_within(n));
  CHECK(answer == 42);
  CHECK(reply_from_backend);
  CHECK(proxy_saw_request);
  CHECK(n.stats().unread_dropped == 0);
  CHECK(errors.size() == 0);
}

TEST_CASE("reply(m, error): the requester's result is that error, and an error to a plain message is reported", "[request][reply_error]") {
  node n({.threads = 1});
  error_log errors(n);
  pid server = n.spawn([](context self) -> process {
    for (;;) {
      message m = co_await self.receive();
      if (m.is<quit>()) co_return;
      if (m.is<int>())
        self.reply(m, error(errc::rejected, "no key " + std::to_string(m.as<int>())));
      else if (m.is<double>())
        self.reply(m, errc::not_local);  // a bare code is an error reply too, not a value
      else  // a code of another category: it travels as errc::rejected, with the code's text
        self.reply(m, error(std::make_error_code(std::errc::permission_denied), "read-only"));
    }
  });
  std::optional<error> ours, foreign, bare;
  double elapsed_ms = 1e9;
  n.spawn([&](context self) -> process {
    auto start = std::chrono::steady_clock::now();
    auto r = co_await self.request<std::string>(server, 7, 10s);
    elapsed_ms = ms_since(start);
    if (!r) ours = r.error();
    auto f = co_await self.request(server, std::string("write"), 10s);
    if (!f) foreign = f.error();
    auto c = co_await self.request(server, 1.5, 10s);
    if (!c) bare = c.error();
    self.send(server, 8);  // not a request: nobody waits for the answer
    self.send(server, quit{});
  });
  REQUIRE(run_within(n));
  REQUIRE(ours);
  CHECK(*ours == errc::rejected);
  CHECK(ours->detail() == "no key 7");
  CHECK(elapsed_ms < 5000);  // the error, not the timeout
  REQUIRE(foreign);
  CHECK(*foreign == errc::rejected);
  CHECK(foreign->detail() == std::make_error_code(std::errc::permission_denied).message() + ": read-only");
  REQUIRE(bare);
  CHECK(*bare == errc::not_local);
  // The error that answered a plain message went to the error hook, with the answering process.
  auto reported = errors.of(errc::rejected);
  REQUIRE(reported.size() == 1);
  CHECK(reported[0].who == server);
  CHECK(reported[0].detail.find("no key 8") != std::string::npos);
}

TEST_CASE("self.now() is the scheduler's clock", "[request][time]") {
  node n({.threads = 1});
  time_point before{}, after{};
  n.spawn([&](context self) -> process {
    before = self.now();
    co_await self.sleep(20ms);
    after = self.now();
  });
  REQUIRE(run_within(n));
  CHECK(after - before >= 20ms);
  CHECK(after <= n.scheduler().now());
}
