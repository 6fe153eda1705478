// Receiving: arrival order, selective receive (by type, by predicate), receive timeouts, and what a
// received message tells about itself.
#include "support.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <stdexcept>
#include <string>
#include <vector>

using namespace coactor;
using namespace coactor_test;

TEST_CASE("messages from one sender arrive in the order they were sent", "[receive][order]") {
  const unsigned threads = GENERATE(1u, 2u);
  CAPTURE(threads);
  node n({.threads = threads});
  error_log errors(n);
  constexpr int count = 2000;
  std::vector<int> got;
  pid receiver = n.spawn([&](context self) -> process {
    for (int i = 0; i < count; ++i) got.push_back(*co_await self.receive<int>());
  });
  n.spawn([&](context self) -> process {
    for (int i = 0; i < count; ++i) {
      self.send(receiver, i);
      if (i % 97 == 0) co_await self.yield_now();  // let the receiver drain a partial batch
    }
  });
  REQUIRE(run_within(n));
  REQUIRE(got.size() == count);
  for (int i = 0; i < count; ++i) REQUIRE(got[i] == i);
  CHECK(errors.size() == 0);
  CHECK(n.stats().processes == 0);
}

TEST_CASE("node::send from outside arrives in order, with the null pid as sender", "[receive][order]") {
  node n({.threads = 1});
  error_log errors(n);
  std::vector<int> got;
  std::vector<bool> null_sender;
  pid receiver = n.spawn([&](context self) -> process {
    for (int i = 0; i < 100; ++i) {
      auto m = co_await self.receive<int>();
      got.push_back(*m);
      null_sender.push_back(m.sender().is_null());
    }
  });
  for (int i = 0; i < 100; ++i) n.send(receiver, i);  // before run(): handed to the scheduler's thread
  REQUIRE(run_within(n));
  REQUIRE(got.size() == 100);
  for (int i = 0; i < 100; ++i) CHECK(got[i] == i);
  CHECK(std::all_of(null_sender.begin(), null_sender.end(), [](bool b) { return b; }));
  CHECK(errors.size() == 0);
}

TEST_CASE("receive<T> takes the first T and leaves the others queued in arrival order", "[receive][selective]") {
  node n({.threads = 1});
  error_log errors(n);
  double first_double = 0;
  std::string first_string;
  std::vector<std::string> rest;  // what came after, described
  pid receiver = n.spawn([&](context self) -> process {
    first_double = *co_await self.receive<double>();        // skips 1, "a", 2, "b"
    first_string = *co_await self.receive<std::string>();   // "a", from the middle of the queue
    for (int i = 0; i < 4; ++i) {
      message m = co_await self.receive();
      if (const int* v = m.get_if<int>())
        rest.push_back("int " + std::to_string(*v));
      else if (const std::string* s = m.get_if<std::string>())
        rest.push_back("string " + *s);
      else
        rest.push_back("other " + std::string(m.type_name()));
    }
  });
  n.spawn([&](context self) -> process {
    self.send(receiver, 1);
    self.send(receiver, std::string("a"));
    self.send(receiver, 2);
    self.send(receiver, "b");  // a C string travels as std::string
    self.send(receiver, 3.5);
    self.send(receiver, 3);
    co_return;
  });
  REQUIRE(run_within(n));
  CHECK(first_double == 3.5);
  CHECK(first_string == "a");
  CHECK(rest == std::vector<std::string>{"int 1", "int 2", "string b", "int 3"});
  CHECK(errors.size() == 0);
}

TEST_CASE("receive<T> waits for a T that arrives after other messages", "[receive][selective]") {
  node n({.threads = 1});
  error_log errors(n);
  std::vector<int> order;
  pid receiver = n.spawn([&](context self) -> process {
    auto s = co_await self.receive<std::string>();  // suspends: only ints arrive at first
    order.push_back(static_cast<int>(s->size()));
    for (int i = 0; i < 3; ++i) order.push_back(*co_await self.receive<int>());
  });
  n.spawn([&](context self) -> process {
    for (int i = 10; i < 13; ++i) {
      self.send(receiver, i);
      co_await self.yield_now();  // the receiver wakes, finds only ints, waits again
    }
    self.send(receiver, std::string("xxxxx"));
  });
  REQUIRE(run_within(n));
  CHECK(order == std::vector<int>{5, 10, 11, 12});
  CHECK(errors.size() == 0);
}

TEST_CASE("receive_if takes the first message the predicate accepts", "[receive][selective]") {
  node n({.threads = 1});
  error_log errors(n);
  int picked = 0;
  std::vector<int> rest;
  int asked = 0;
  pid receiver = n.spawn([&](context self) -> process {
    message m = co_await self.receive_if([&](const message& x) {
      ++asked;
      const int* v = x.get_if<int>();
      return v && *v > 10;
    });
    picked = m.as<int>();
    for (int i = 0; i < 4; ++i) rest.push_back((co_await self.receive<int>()).value());
  });
  n.spawn([&](context self) -> process {
    for (int v : {1, 5, 20, 7, 30}) {
      self.send(receiver, v);
      co_await self.yield_now();
    }
  });
  REQUIRE(run_within(n));
  CHECK(picked == 20);
  CHECK(rest == std::vector<int>{1, 5, 7, 30});
  CHECK(asked == 3);  // 1 and 5 once each (queued ones are not asked again while waiting), then 20
  CHECK(errors.size() == 0);
}

TEST_CASE("a throwing predicate propagates out of co_await and leaves the message queued", "[receive][selective]") {
  const bool timed = GENERATE(false, true);
  CAPTURE(timed);
  node n({.threads = 1});
  error_log errors(n);
  std::string caught;
  std::vector<int> rest;
  bool got_past = false;
  pid receiver = n.spawn([&](context self) -> process {
    auto r = co_await self.receive<quit>(10s);  // 1, 2, 3 are queued before it
    CHECK(r);
    auto pred = [](const message& m) {
      if (m.as<int>() == 2) throw std::runtime_error("predicate failed on 2");
      return false;
    };
    try {
      if (timed)
        (void)co_await self.receive_if(pred, 10s);
      else
        (void)co_await self.receive_if(pred);
      got_past = true;
    } catch (const std::runtime_error& e) {
      caught = e.what();
    }
    for (int i = 0; i < 3; ++i) rest.push_back(*co_await self.receive<int>());
  });
  n.spawn([&](context self) -> process {
    self.send(receiver, 1);
    self.send(receiver, 2);
    self.send(receiver, 3);
    self.send(receiver, quit{});
    co_return;
  });
  REQUIRE(run_within(n));
  CHECK_FALSE(got_past);
  CHECK(caught == "predicate failed on 2");
  CHECK(rest == std::vector<int>{1, 2, 3});
  CHECK(n.stats().failures == 0);
  CHECK(errors.size() == 0);
}

TEST_CASE("a predicate that throws while the process waits is rethrown when it resumes", "[receive][selective]") {
  node n({.threads = 1});
  error_log errors(n);
  std::string caught;
  int after = 0;
  pid receiver = n.spawn([&](context self) -> process {
    try {
      (void)co_await self.receive_if([](const message& m) -> bool {
        if (m.is<std::string>()) throw std::runtime_error(m.as<std::string>());
        return false;
      });
    } catch (const std::runtime_error& e) {
      caught = e.what();
    }
    after = *co_await self.receive<int>();  // queued before the string, still there
    (void)co_await self.receive<std::string>();
  });
  n.spawn([&](context self) -> process {
    co_await self.yield_now();  // the receiver is suspended by now
    self.send(receiver, 42);
    co_await self.yield_now();
    self.send(receiver, std::string("late bad news"));
  });
  REQUIRE(run_within(n));
  CHECK(caught == "late bad news");
  CHECK(after == 42);
  CHECK(n.stats().unread_dropped == 0);
  CHECK(errors.size() == 0);
}

TEST_CASE("receive with a timeout returns errc::timeout and loses nothing", "[receive][timeout]") {
  node n({.threads = 1});
  error_log errors(n);
  bool timed_out = false;
  std::string detail;
  double elapsed_ms = 0;
  std::vector<std::string> order;
  pid receiver = n.spawn([&](context self) -> process {
    auto start = std::chrono::steady_clock::now();
    auto r = co_await self.receive<double>(30ms);  // only ints and strings are queued
    elapsed_ms = ms_since(start);
    timed_out = !r && r.error() == errc::timeout;
    if (!r) detail = r.error().message();
    for (int i = 0; i < 2; ++i) {
      auto m = co_await self.receive(1s);
      if (!m)
        order.push_back("timeout");
      else if (m->is<int>())
        order.push_back("int");
      else
        order.push_back(std::string(m->type_name()));
    }
    auto none = co_await self.receive(5ms);
    order.push_back(none ? "unexpected" : "empty");
  });
  n.spawn([&](context self) -> process {
    self.send(receiver, 7);
    self.send(receiver, std::string("s"));
    co_return;
  });
  REQUIRE(run_within(n));
  CHECK(timed_out);
  CHECK(elapsed_ms >= 30.0);  // a timeout never fires early
  CHECK(detail == "timeout: no message within 30ms");
  REQUIRE(order.size() == 3);
  CHECK(order[0] == "int");
  CHECK(order[1] != "timeout");
  CHECK(order[2] == "empty");
  CHECK(errors.size() == 0);
}

TEST_CASE("a zero or negative timeout polls without suspending", "[receive][timeout]") {
  const duration timeout = GENERATE(duration::zero(), duration(-std::chrono::milliseconds(5)));
  CAPTURE(timeout.count());
  node n({.threads = 1});
  error_log errors(n);
  bool other_ran = false;
  bool other_ran_during_poll = true;
  bool empty_is_timeout = false;
  int polled = 0;
  bool ended = false;
  pid self_pid;
  n.spawn([&](context self) -> process {
    self_pid = self.pid();
    self.send(self.pid(), 5);
    auto hit = co_await self.receive<int>(timeout);  // queued: returned at once
    polled = hit ? **hit : -1;
    auto miss = co_await self.receive(timeout);      // nothing queued: a timeout, at once
    empty_is_timeout = !miss && miss.error() == errc::timeout;
    auto pred_miss = co_await self.receive_if([](const message&) { return true; }, timeout);
    empty_is_timeout = empty_is_timeout && !pred_miss && pred_miss.error() == errc::timeout;
    other_ran_during_poll = other_ran;  // the other process is runnable but must not have run yet
    ended = true;
  });
  n.spawn([&](context) -> process {
    other_ran = true;
    co_return;
  });
  REQUIRE(run_within(n));
  CHECK(polled == 5);
  CHECK(empty_is_timeout);
  CHECK_FALSE(other_ran_during_poll);
  CHECK(other_ran);
  CHECK(ended);
  CHECK(errors.size() == 0);
}

TEST_CASE("a message that arrives before the timeout is received, not timed out", "[receive][timeout]") {
  node n({.threads = 1});
  error_log errors(n);
  int got = 0;
  pid receiver = n.spawn([&](context self) -> process {
    auto r = co_await self.receive<int>(10s);
    got = r ? **r : -1;
  });
  n.spawn([&](context self) -> process {
    co_await self.sleep(5ms);
    self.send(receiver, 99);
  });
  auto start = std::chrono::steady_clock::now();
  REQUIRE(run_within(n));
  CHECK(got == 99);
  CHECK(ms_since(start) < 5000);  // woken by the message, not by the 10 s timer
  CHECK(errors.size() == 0);
}

TEST_CASE("a received message knows its sender, type and whether it is a request", "[receive][message]") {
  node n({.threads = 1});
  error_log errors(n);
  pid sender_seen;
  bool is_request_plain = true;
  bool is_request_req = false;
  std::string type;
  bool as_wrong_type_threw = false;
  std::string answer;
  pid sender_pid;
  pid receiver = n.spawn([&](context self) -> process {
    message m = co_await self.receive();
    sender_seen = m.sender();
    is_request_plain = m.is_request();
    type = std::string(m.type_name());
    try {
      (void)m.as<double>();
    } catch (const bad_access&) {
      as_wrong_type_threw = true;
    }
    self.reply(m, std::string("plain reply"));  // not a request: a plain message to the sender
    message r = co_await self.receive();
    is_request_req = r.is_request();
    self.reply(r, 1);
  });
  sender_pid = n.spawn([&](context self) -> process {
    self.send(receiver, seq_msg{1, 2});
    answer = *co_await self.receive<std::string>();
    auto r = co_await self.request<int>(receiver, 0, 10s);
    CHECK(r);
  });
  REQUIRE(run_within(n));
  CHECK(sender_seen == sender_pid);
  CHECK_FALSE(is_request_plain);
  CHECK(is_request_req);
  CHECK(type.find("seq_msg") != std::string::npos);
  CHECK(as_wrong_type_threw);
  CHECK(answer == "plain reply");
  CHECK(errors.size() == 0);
}

TEST_CASE("a process can send to itself", "[receive]") {
  node n({.threads = 1});
  error_log errors(n);
  std::vector<int> got;
  n.spawn([&](context self) -> process {
    for (int i = 0; i < 5; ++i) self.send(self.pid(), i);
    for (int i = 0; i < 5; ++i) got.push_back(*co_await self.receive<int>());
  });
  REQUIRE(run_within(n));
  CHECK(got == std::vector<int>{0, 1, 2, 3, 4});
  CHECK(errors.size() == 0);
}
