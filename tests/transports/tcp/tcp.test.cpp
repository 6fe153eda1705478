// Both TCP transports, through nodes in this process talking over real TCP on 127.0.0.1: each node has
// its own single-threaded thread_pool, run on its own std::thread. What every transport promises
// (request/reply, pids across nodes, each undeliverable case, large frames, nodes that do not listen) is
// checked by the conformance suite (../conformance.test.cpp); these are what is particular to TCP.
#include "tcp_support.hpp"

#include <catch2/catch.hpp>

using namespace tcp_test;

namespace {

using clock_type = std::chrono::steady_clock;

double seconds_since(clock_type::time_point start) {
  return std::chrono::duration<double>(clock_type::now() - start).count();
}

}  // namespace

TEMPLATE_TEST_CASE("tcp: listen picks a free port, a port in use is errc::io", "[tcp]", pooled, per_message) {
  test_node a("a", TestType::make());
  const std::string address = a.listen();
  CHECK(address.rfind("127.0.0.1:", 0) == 0);
  CHECK(port_of(address) != 0);
  CHECK(a->address().to_string() == address);
  CHECK(a->address().host == "127.0.0.1");
  CHECK(a->address().port == port_of(address));

  test_node b("b", TestType::make());
  auto taken = b->listen(address);
  REQUIRE_FALSE(taken);
  CHECK(taken.error() == errc::io);
  CHECK(taken.error().detail().find("in use") != std::string::npos);

  auto malformed = b->listen("127.0.0.1");
  REQUIRE_FALSE(malformed);
  CHECK(malformed.error() == errc::io);

  test_node c("c", TestType::make());  // IPv6 loopback, bracketed
  auto v6 = c->listen("[::1]:0");
  if (v6) CHECK((v6->host == "::1" && v6->to_string().rfind("[::1]:", 0) == 0));  // (a machine without IPv6 fails here; not an error of ours)
}

TEMPLATE_TEST_CASE("tcp: a one-way message from a client that ends at once is still flushed", "[tcp]", pooled, per_message) {
  test_node server("server", TestType::make());
  server.listen();
  const process_name name = server.serve_here();
  test_node client("client", TestType::make());
  client.listen();
  client->spawn([name](context self) -> process {
    self.send(name, seq{0});
    co_return;
  });
  server.start();
  client.start();
  // run() keeps going while the frame is queued or being written, and returns once it is out.
  REQUIRE(client.wait(10s));

  std::optional<count_reply> counted;
  client->spawn([&, name](context self) -> process {
    auto r = co_await self.request<count_reply>(name, count_query{}, 10s);
    if (r) counted = *r;
  });
  client.start();
  REQUIRE(client.wait(15s));
  server.stop();
  REQUIRE(counted);
  CHECK(counted->received == 1);
  CHECK(server.errors().size() == 0);
  CHECK(client.errors().size() == 0);
}

TEMPLATE_TEST_CASE("tcp: a node whose last process ends on a message still finishes its side of it", "[tcp]", pooled,
                   per_message) {
  test_node server("server", TestType::make());
  server.listen();
  const process_name name = server.serve_here();
  test_node client("client", TestType::make());
  client.listen();
  client->spawn([name](context self) -> process {
    self.send(name, quit{});
    co_return;
  });
  server.start();
  client.start();
  REQUIRE(server.wait(10s));  // `serve` ended on the quit: no work left on the server
  REQUIRE(client.wait(10s));  // tcp_per_message: the ack was still written before the server's run() returned
  INFO(client.errors().dump());
  CHECK(client.errors().size() == 0);
  CHECK(server.errors().size() == 0);
}

TEMPLATE_TEST_CASE("tcp: a server's error reply is the requester's error, a type without a wire form fails at the sender",
                   "[tcp][reply_error]", pooled, per_message) {
  test_node server("server", TestType::make());
  server.listen();
  const process_name name = server.serve_here();
  test_node client("client", TestType::make());
  client.listen();

  std::optional<error> refused, unsendable;
  pid sender;
  client->spawn([&, name](context self) -> process {
    sender = self.pid();
    auto r = co_await self.request<std::string>(name, coactor::make<refuse>("no such key"), 10s);
    if (!r) refused = r.error();
    int x = 0;
    auto u = co_await self.request(name, local_only{&x}, 10s);
    if (!u) unsendable = u.error();
    self.send(name, local_only{&x});  // no requester to tell: the error hook, with this process
  });
  server.start();
  client.start();
  REQUIRE(client.wait(20s));
  server.stop();
  REQUIRE(refused);
  CHECK(*refused == errc::rejected);
  CHECK(refused->detail() == "no such key");
  REQUIRE(unsendable);
  CHECK(*unsendable == errc::not_serializable);
  const std::string type(coactor::type_name<local_only>());
  CHECK(unsendable->detail().find(type) != std::string::npos);
  std::vector<error_log::entry> reports;
  for (auto& e : client.errors().entries())
    if (e.code == make_error_code(errc::not_serializable)) reports.push_back(e);
  REQUIRE(reports.size() == 1);
  CHECK(reports[0].who == sender);
  CHECK(reports[0].detail.find(type) != std::string::npos);
  CHECK(server.errors().size() == 0);
}

TEMPLATE_TEST_CASE("tcp: a peer that accepts and never answers times out, nothing hangs", "[tcp]", pooled, per_message) {
  raw_socket silent;
  const process_name nowhere{silent.listen_silently(), "server"};
  test_node client("client", TestType::make_fast_failing());  // 1 s timeouts
  client.listen();
  std::optional<error> failed;
  double took = 0;
  client->spawn([&, nowhere](context self) -> process {
    const auto start = clock_type::now();
    auto r = co_await self.request(nowhere, 1, 10s);
    took = seconds_since(start);
    if (!r) failed = r.error();
  });
  client.start();
  REQUIRE(client.wait(15s));
  REQUIRE(failed);
  // tcp_pooled: the handshake did not complete (unreachable); tcp_per_message: no ack (timeout).
  CHECK((*failed == errc::unreachable || *failed == errc::timeout));
  CHECK(took < 5.0);
}

TEMPLATE_TEST_CASE("tcp: node_options::flush_timeout bounds how long run() waits for frames that cannot go out",
                   "[tcp][flush]", pooled, per_message) {
  raw_socket silent;  // accepts, never answers: the transport waits for a hello or an ack for 5 s
  const process_name nowhere{silent.listen_silently(), "server"};
  auto errors = std::make_shared<error_log>();
  double took = 0;
  {
    node client({.name = "client", .threads = 1, .transport = TestType::make(), .flush_timeout = 200ms});
    client.on_error([errors](const error& e, const pid& who) { errors->add(e, who); });
    client.spawn([nowhere](context self) -> process {
      self.send(nowhere, seq{1});
      co_return;
    });
    const auto start = clock_type::now();
    client.run();  // the process ends at once; the frame is still waiting for its connection
    took = seconds_since(start);
    CHECK(errors->count(errc::stopped) == 0);
  }  // shutting down gives the frame back: reported, not lost silently
  CHECK(took < 4.0);  // the 200 ms flush time, not the transport's 5 s
  CHECK(errors->count(errc::stopped) == 1);
}

TEMPLATE_TEST_CASE("tcp: shutdown gives up queued frames as errc::stopped, run() waits for them until then", "[tcp]",
                   pooled, per_message) {
  raw_socket silent;
  const process_name nowhere{silent.listen_silently(), "server"};
  auto client = std::make_unique<test_node>("client", TestType::make());  // 5 s handshake / ack timeouts
  client->listen();
  auto errors = client->shared_errors();
  (*client)->spawn([nowhere](context self) -> process {
    self.send(nowhere, seq{1});
    co_return;
  });
  client->start();
  CHECK_FALSE(client->wait(500ms));  // the frame holds run() (work accounting)
  client->stop();
  CHECK(errors->count(errc::stopped) == 0);
  client.reset();  // the node shuts its transport down: the frame comes back
  CHECK(errors->count(errc::stopped) == 1);
}

TEMPLATE_TEST_CASE("tcp: a json node and a binary node talk", "[tcp]", pooled, per_message) {
  test_node server("server", TestType::make(), codec::json);
  server.listen();
  const process_name name = server.serve_here();
  test_node client("client", TestType::make(), codec::binary);
  client.listen();
  std::string reply;
  int pong_n = 0;
  client->spawn([&, name](context self) -> process {
    auto r = co_await self.request<std::string>(name, coactor::make<ping>(1, "json?", self.pid()), 10s);
    if (r) reply = *r;
    auto p = co_await self.receive<pong>(10s);
    if (p) pong_n = (*p)->n;
  });
  server.start();
  client.start();
  REQUIRE(client.wait(20s));
  server.stop();
  CHECK(reply == "pong:json?");
  CHECK(pong_n == 2);
  CHECK(server.errors().size() == 0);
  CHECK(client.errors().size() == 0);
}

TEMPLATE_TEST_CASE("tcp: the peer node is destroyed mid-stream: failures are reported, nothing hangs", "[tcp]", pooled,
                   per_message) {
  auto server = std::make_unique<test_node>("server", TestType::make_fast_failing());
  server->listen();
  const process_name name = server->serve_here();
  test_node client("client", TestType::make_fast_failing());
  client.listen();

  stream_outcome streamed;
  std::atomic<int>& answered = streamed.answered;
  std::optional<error>& last_failure = streamed.last_failure;
  stream_until_gone(client, name, streamed);
  server->start();
  client.start();
  const auto start = clock_type::now();
  while (answered.load() < 5 && seconds_since(start) < 10) std::this_thread::sleep_for(10ms);
  CHECK(answered.load() >= 5);
  server->stop();
  server.reset();  // mid-stream
  REQUIRE(client.wait(20s));
  REQUIRE(last_failure);
  CHECK(*last_failure == errc::unreachable);
  // The one-way messages sent after the node went away were reported, not dropped silently.
  CHECK(client.errors().count(errc::unreachable) >= 3);
}

TEMPLATE_TEST_CASE("tcp: a peer that is not coactor is refused with a bye, and reported", "[tcp]", pooled, per_message) {
  test_node server("server", TestType::make());
  const std::string address = server.listen();
  server.serve_here();
  server.start();
  raw_socket http;
  REQUIRE(http.connect(address));
  http.write("GET / HTTP/1.0\r\n\r\n");
  const std::string answer = http.read_all();  // our greeting, then a bye, then EOF
  http.close();
  const auto start = clock_type::now();
  while (server.errors().count(errc::protocol) == 0 && seconds_since(start) < 5) std::this_thread::sleep_for(10ms);
  server.stop();
  REQUIRE(answer.size() > wire::preamble_bytes);
  CHECK(wire::check_preamble(std::string_view(answer).substr(0, wire::preamble_bytes)));
  std::string_view rest = std::string_view(answer).substr(wire::preamble_bytes);
  auto hello_size = wire::frame_size(rest);
  REQUIRE(hello_size);
  REQUIRE(*hello_size <= rest.size());
  CHECK(wire::parse_hello(rest.substr(0, *hello_size)));
  rest.remove_prefix(*hello_size);
  auto bye_size = wire::frame_size(rest);
  REQUIRE(bye_size);
  REQUIRE(*bye_size > 0);
  REQUIRE(*bye_size <= rest.size());
  auto bye = wire::parse_frame(rest.substr(0, *bye_size), 0, {});
  REQUIRE(bye);
  CHECK(bye->kind == wire::frame_kind::bye);
  auto status = wire::read_status(bye->payload);
  REQUIRE(status);
  CHECK(status->code == static_cast<int>(errc::protocol));
  CHECK(server.errors().count(errc::protocol) == 1);
}

namespace {

template <class Transport>
void count_exactly(std::int64_t n) {
  test_node server("server", Transport::make());
  server.listen();
  const process_name name = server.serve_here();
  test_node client("client", Transport::make());
  client.listen();
  std::optional<count_reply> counted;
  client->spawn([&, name, n](context self) -> process {
    for (std::int64_t i = 0; i < n; ++i) {
      self.send(name, seq{i});
      if (i % 1024 == 1023) co_await self.yield_now();
    }
    auto r = co_await self.request<count_reply>(name, count_query{}, 60s);
    if (r) counted = *r;
  });
  const auto start = clock_type::now();
  server.start();
  client.start();
  REQUIRE(client.wait(std::chrono::seconds(60)));
  const double took = seconds_since(start);
  server.stop();
  WARN(Transport::name << ": " << n << " messages in " << took << " s (" << static_cast<double>(n) / took << " /s)");
  REQUIRE(counted);
  CHECK(counted->received == n);
  CHECK(counted->in_order);  // one sender, one receiver: in order (per_message: max_in_flight_per_peer 1)
  CHECK(server.errors().size() == 0);
  CHECK(client.errors().size() == 0);
}

}  // namespace

TEST_CASE("tcp_pooled: 100,000 messages, counted exactly and in order", "[tcp][tcp_pooled][count]") {
  count_exactly<pooled>(100'000 / slowdown);
}

TEST_CASE("tcp_per_message: 20,000 messages, counted exactly and in order", "[tcp][tcp_per_message][count]") {
  count_exactly<per_message>(20'000 / slowdown);
}

// ---- not on a thread_pool ----

namespace {

/// A scheduler that is not a thread_pool (as the simulator's is not).
struct not_a_pool final : scheduler {
  void schedule(detail::process_base&) noexcept override {}
  time_point now() const noexcept override { return {}; }
  void arm(detail::timer&) override {}
  bool disarm(detail::timer&) noexcept override { return false; }
  void work_started() noexcept override {}
  void work_finished() noexcept override {}
  void run() override {}
  void stop() noexcept override {}
  void post(std::function<void()>) override {}
  bool single_threaded() const noexcept override { return true; }
  bool on_scheduler_thread() const noexcept override { return true; }
};

struct recording_host final : transport_host {
  node_identity id{1, "fake", "", codec::binary};
  not_a_pool sched;
  std::vector<error> lost;
  std::vector<node_identity> up, down;
  const node_identity& identity() const noexcept override { return id; }
  coactor::scheduler& scheduler() noexcept override { return sched; }
  result<void> deliver(const node_identity&, std::string_view) override { return {}; }
  void undeliverable(std::string_view, const error& why) override { lost.push_back(why); }
  void report(const error&) override {}
  void peer_up(const node_identity& peer) override { up.push_back(peer); }
  void peer_down(const node_identity& peer, const error&) override { down.push_back(peer); }
};

}  // namespace

TEMPLATE_TEST_CASE("tcp: a node not on a thread_pool gets a clear error", "[tcp]", pooled, per_message) {
  recording_host host;
  auto t = TestType::make();
  t->attach(host);
  auto r = t->listen("127.0.0.1:0");
  REQUIRE_FALSE(r);
  CHECK(r.error() == errc::io);
  CHECK(r.error().detail().find("thread_pool") != std::string::npos);
  t->send(peer_ref{1234, "127.0.0.1:1"}, std::string_view("\x04\0\0\0\x02\0\0\0", 8));
  REQUIRE(host.lost.size() == 1);
  CHECK(host.lost[0].detail().find("thread_pool") != std::string::npos);
  t->shutdown();
  CHECK(host.up.empty());  // no peer was ever reached
  CHECK(host.down.empty());
}
