// The two TCP transports talk to each other: the hello says how a node sends (wire::connection_mode),
// and whoever accepts a connection acks the frames of a per-message peer and not those of a pooled one.
#include "tcp_support.hpp"

#include <catch2/catch.hpp>

#include <map>

using namespace tcp_test;

namespace tcp_modes_test {

struct pooled_client_per_message_server {
  using client = pooled;
  using server = per_message;
};
struct per_message_client_pooled_server {
  using client = per_message;
  using server = pooled;
};

/// A message frame for the process registered as `to`: a string, which `serve` takes and ignores.
std::string message_to(std::string_view to) {
  std::string out;
  const std::size_t start = wire::begin_frame(out, wire::frame_kind::message, codec::binary, wire::flag_to_name);
  wire::write_envelope_fields(out, pid{}, to, pid{}, 0, "string", wire_context{}, true);
  out += "\x02hi";
  wire::end_frame(out, start);
  return out;
}

/// A message frame that ends after its header: the node reads it and refuses it.
std::string truncated_message() {
  std::string out;
  const std::size_t start = wire::begin_frame(out, wire::frame_kind::message, codec::binary, 0);
  wire::end_frame(out, start);
  return out;
}

/// What a node wrote on a connection: its hello, then the frames after it (their kinds and statuses).
struct answer {
  std::optional<wire::hello> hello;
  std::vector<wire::frame_kind> kinds;
  std::vector<wire::status> statuses;
};

answer read_answer(std::string_view bytes) {
  answer a;
  REQUIRE(bytes.size() > wire::preamble_bytes);
  REQUIRE(wire::check_preamble(bytes.substr(0, wire::preamble_bytes)));
  bytes.remove_prefix(wire::preamble_bytes);
  bool first = true;
  while (!bytes.empty()) {
    auto size = wire::frame_size(bytes);
    REQUIRE(size);
    REQUIRE(*size > 0);
    REQUIRE(*size <= bytes.size());
    const std::string_view frame = bytes.substr(0, *size);
    bytes.remove_prefix(*size);
    if (first) {
      auto h = wire::parse_hello(frame);
      REQUIRE(h);
      a.hello = *h;
      first = false;
      continue;
    }
    auto f = wire::parse_frame(frame, 0, {});
    REQUIRE(f);
    a.kinds.push_back(f->kind);
    auto status = wire::read_status(f->payload);
    REQUIRE(status);
    a.statuses.push_back(*status);
  }
  return a;
}

}  // namespace tcp_modes_test

using namespace tcp_modes_test;

TEMPLATE_TEST_CASE("tcp modes: a pooled node and a per-message node, requests and replies both ways", "[tcp][modes]",
                   pooled_client_per_message_server, per_message_client_pooled_server) {
  test_node server("server", TestType::server::make());
  server.listen();
  const process_name name = server.serve_here();
  test_node client("client", TestType::client::make());
  client.listen();

  std::string reply;
  int pong_n = 0;
  std::optional<count_reply> counted;
  const std::int64_t n = 200 / slowdown;
  client->spawn([&, name](context self) -> process {
    auto r = co_await self.request<std::string>(name, coactor::make<ping>(1, TestType::client::name, self.pid()), 10s);
    if (r) reply = *r;
    auto p = co_await self.receive<pong>(10s);  // a plain send from the server to our pid
    if (p) pong_n = (*p)->n;
    for (std::int64_t i = 0; i < n; ++i) self.send(name, seq{i});
    auto c = co_await self.request<count_reply>(name, count_query{}, 20s);
    if (c) counted = *c;
  });
  server.start();
  client.start();
  REQUIRE(client.wait(30s));  // a per-message node waits for an ack after every frame: none, and this times out
  server.stop();
  CHECK(reply == std::string("pong:") + TestType::client::name);
  CHECK(pong_n == 2);
  REQUIRE(counted);
  CHECK(counted->received == n);
  CHECK(counted->in_order);  // pooled: one connection; per-message: one frame at a time
  INFO(server.errors().dump() << client.errors().dump());
  CHECK(server.errors().size() == 0);
  CHECK(client.errors().size() == 0);
}

TEMPLATE_TEST_CASE("tcp modes: a per-message hello gets an ack for every data frame, a pooled one none", "[tcp][modes]",
                   pooled, per_message) {
  test_node server("server", TestType::make());
  const std::string address = server.listen();
  server.serve_here();
  server.start();
  std::map<wire::connection_mode, answer> answers;
  for (wire::connection_mode mode : {wire::connection_mode::per_message, wire::connection_mode::pooled}) {
    raw_socket s;
    REQUIRE(s.connect(address));
    std::string out;
    wire::write_greeting(out, node_identity{42 + static_cast<std::uint64_t>(mode), "raw", "", codec::binary}, mode);
    out += message_to("server") + truncated_message();
    wire::write_bye(out, error(errc::stopped, "done"));  // the node flushes and closes: read to EOF
    s.write(out);
    answers[mode] = read_answer(s.read_all());
  }
  server.stop();
  const wire::connection_mode own =
      std::is_same_v<TestType, pooled> ? wire::connection_mode::pooled : wire::connection_mode::per_message;

  const answer& acked = answers[wire::connection_mode::per_message];
  REQUIRE(acked.hello);
  CHECK(acked.hello->mode == own);  // the node says how it sends
  REQUIRE(acked.kinds == std::vector<wire::frame_kind>{wire::frame_kind::ack, wire::frame_kind::ack});
  CHECK(acked.statuses[0].code == 0);  // delivered
  CHECK(acked.statuses[1].code != 0);  // refused by the node, with its reason
  CHECK_FALSE(acked.statuses[1].detail.empty());

  const answer& unacked = answers[wire::connection_mode::pooled];
  REQUIRE(unacked.hello);
  CHECK(unacked.hello->mode == own);
  CHECK(unacked.kinds.empty());
  // The node reported each truncated frame it refused (and nothing else).
  CHECK(server.errors().size() == 2);
}
