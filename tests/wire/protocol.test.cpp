// The protocol as docs/protocol.md states it, checked from outside a node: a hand-written peer on a raw
// socket talks to a real node (tcp_pooled, which answers on the connection the peer opened). Covers
// version negotiation (the preamble's version range, the agreed version a connection exposes), replies
// in the codec of their request, and malformed requests that are answered with a failure frame rather
// than left to time out.
#include "../transports/tcp/tcp_support.hpp"

#include <coactor/transports/tcp/connection.hpp>
#include <coactor/transports/tcp/net.hpp>
#include <coactor/wire/frame.hpp>
#include <coactor/wire/handshake.hpp>

#include <catch2/catch.hpp>

#include "bytes.hpp"

#include <asio/io_context.hpp>
#include <asio/strand.hpp>

#include <optional>
#include <string>
#include <string_view>

using namespace tcp_test;

namespace protocol_test {

using wire_test::bytes_of;
using wire_test::frame;
using wire_test::le64;
using wire_test::str;
using wire_test::varint;

std::string preamble(std::uint16_t highest, std::uint16_t lowest) {
  return std::string("CoAc") + bytes_of({highest & 0xffu, unsigned{highest} >> 8, lowest & 0xffu, unsigned{lowest} >> 8});
}

/// A client written by hand: a socket, a made-up incarnation and pid of its own (no processes).
class wire_peer {
 public:
  static constexpr std::uint64_t incarnation = 0x1234'5678'9abc'def1;
  static constexpr std::uint64_t my_id = 0x4242;

  /// Connects and writes `preamble_bytes` and a hello (codec binary, not listening).
  bool open(const std::string& address, const std::string& preamble_bytes) {
    if (!socket_.connect(address)) return false;
    const std::string hello_body = le64(incarnation) + str("hand") + str("") + bytes_of({1, 0, 0, 0, 0, 0});
    write(preamble_bytes + frame(wire::frame_kind::hello, 0, 0, hello_body));
    return true;
  }
  void write(std::string_view bytes) { socket_.write(bytes); }

  /// The sender field: this client's made-up pid (address empty: the connection's peer).
  static std::string sender() { return le64(incarnation) + le64(my_id) + varint(0) + str(""); }

  /// The next whole frame, or nullopt at EOF / timeout. The first call also reads the node's preamble.
  std::optional<std::string> read_frame() {
    for (;;) {
      if (!preamble_read_ && buf_.size() >= wire::preamble_bytes) {
        node_preamble_ = buf_.substr(0, wire::preamble_bytes);
        buf_.erase(0, wire::preamble_bytes);
        preamble_read_ = true;
      }
      if (preamble_read_ && buf_.size() >= 4) {
        const std::size_t n = wire::length_field(buf_) + 4u;
        if (buf_.size() >= n) {
          std::string f = buf_.substr(0, n);
          buf_.erase(0, n);
          return f;
        }
      }
      if (!socket_.read_some(buf_)) return std::nullopt;
    }
  }
  /// The next frame that is not the node's hello, parsed (its views point into `keep`).
  std::optional<wire::frame_view> next(std::string& keep) {
    for (;;) {
      auto f = read_frame();
      if (!f) return std::nullopt;
      keep = std::move(*f);
      auto parsed = wire::parse_frame(keep, incarnation, {});
      if (!parsed) return std::nullopt;
      if (parsed->kind == wire::frame_kind::hello) continue;
      return *parsed;
    }
  }
  const std::string& node_preamble() const { return node_preamble_; }

 private:
  raw_socket socket_;
  std::string buf_;
  std::string node_preamble_;
  bool preamble_read_ = false;
};

/// A request frame to the name "server" carrying `type` and `payload` in `format`.
std::string request_to_server(unsigned format, std::uint64_t tag, std::string_view type, std::string_view payload) {
  return frame(wire::frame_kind::request, format, wire::flag_to_name,
               str("server") + wire_peer::sender() + varint(tag) + str(type) + std::string(payload));
}

}  // namespace protocol_test

using namespace protocol_test;

TEST_CASE("protocol: the preamble says a range of versions, and both sides agree on one", "[protocol][version]") {
  std::string p;
  wire::write_preamble(p);
  CHECK(p == preamble(1, 0));  // version 1 only: written as 1 and 0, as version-1 nodes always did
  p.clear();
  wire::write_preamble(p, {1, 2});
  CHECK(p == preamble(2, 1));
  p.clear();
  wire::write_preamble(p, {2, 2});
  CHECK(p == preamble(2, 0));

  auto agreed = [](const std::string& peer, wire::version_range ours) -> int {
    auto r = wire::check_preamble(peer, ours);
    return r ? *r : -1;
  };
  CHECK(agreed(preamble(1, 0), {1, 1}) == 1);
  CHECK(agreed(preamble(1, 1), {1, 1}) == 1);
  CHECK(agreed(preamble(2, 1), {1, 1}) == 1);   // a future node that still speaks 1
  CHECK(agreed(preamble(1, 0), {1, 2}) == 1);   // the future node's side of it
  CHECK(agreed(preamble(2, 1), {1, 2}) == 2);
  CHECK(agreed(preamble(5, 3), {1, 4}) == 4);
  CHECK(agreed(preamble(2, 0), {1, 1}) == -1);  // 2..2 against 1..1
  CHECK(agreed(preamble(1, 0), {2, 3}) == -1);

  auto refused = [](const std::string& peer, wire::version_range ours, std::string_view why) {
    auto r = wire::check_preamble(peer, ours);
    REQUIRE(!r);
    CHECK(r.error() == errc::protocol);
    CHECK(r.error().detail() == why);
  };
  refused(preamble(2, 0), {1, 1}, "incompatible versions 2..2 (peer) and 1..1 (this node)");
  refused(preamble(1, 0), {2, 3}, "incompatible versions 1..1 (peer) and 2..3 (this node)");
  refused(preamble(1, 3), {1, 1}, "the peer's preamble says versions 3..1: its lowest is above its highest");
  refused(preamble(0, 0), {1, 1}, "the peer's preamble says version 0, which does not exist");
  refused("CoAb" + preamble(1, 0).substr(4), {1, 1}, "the peer does not speak the coactor protocol");
}

TEST_CASE("protocol: a malformed request still says whom to answer", "[protocol][salvage]") {
  const std::string sender = wire_peer::sender();
  const std::string tail = varint(77) + str("string") + bytes_of({1, 'x'});
  struct bad_case {
    const char* what;
    std::string frame;
    errc code;
  };
  const bad_case cases[] = {
      {"unknown codec", frame(wire::frame_kind::request, 9, 1, str("server") + sender + tail), errc::protocol},
      {"target name not UTF-8", frame(wire::frame_kind::request, 1, 1, str("ser\xffver") + sender + tail), errc::bad_message},
      {"target name empty", frame(wire::frame_kind::request, 1, 1, str("") + sender + tail), errc::bad_message},
      {"target name too long", frame(wire::frame_kind::request, 1, 1, varint(300) + std::string(300, 'n') + sender + tail),
       errc::bad_message},
      {"null target", frame(wire::frame_kind::request, 1, 0, le64(0) + le64(1) + varint(0) + sender + tail), errc::bad_message},
      {"target id 0", frame(wire::frame_kind::request, 1, 0, le64(5) + le64(0) + varint(0) + sender + tail), errc::bad_message},
      {"target slot over 32 bits", frame(wire::frame_kind::request, 1, 0, le64(5) + le64(1) + varint(1ull << 40) + sender + tail),
       errc::bad_message},
      {"type name not UTF-8", frame(wire::frame_kind::request, 1, 1, str("server") + sender + varint(77) + str("str\xc0\xafing")),
       errc::bad_message},
      {"type name truncated", frame(wire::frame_kind::request, 1, 1, str("server") + sender + varint(77) + varint(50) + "str"),
       errc::bad_message},
  };
  for (const auto& c : cases) {
    INFO(c.what);
    wire::request_salvage salvage;
    auto f = wire::parse_frame(c.frame, 1, "peer:1", &salvage);
    REQUIRE(!f);
    CHECK(f.error() == c.code);
    CHECK(salvage.answerable);
    CHECK(salvage.tag == 77);
    CHECK(salvage.from == pid(wire_peer::incarnation, wire_peer::my_id, 0));
    CHECK(salvage.from.address() == "peer:1");
  }
  // Not answerable: a plain message, a request without sender, one whose sender or tag is cut off.
  const std::string not_answerable[] = {
      frame(wire::frame_kind::message, 9, 1, str("server") + sender + tail),
      frame(wire::frame_kind::request, 9, 1, str("server") + le64(0) + tail),
      frame(wire::frame_kind::request, 9, 1, str("server") + sender.substr(0, 12)),
      frame(wire::frame_kind::request, 9, 1, str("server") + sender + "\xff"),
      frame(wire::frame_kind::request, 1, 1, varint(40) + "server"),
  };
  for (const auto& bad : not_answerable) {
    wire::request_salvage salvage;
    CHECK(!wire::parse_frame(bad, 1, "peer:1", &salvage));
    CHECK(!salvage.answerable);
  }
}

TEST_CASE("protocol: every malformed request whose sender and tag could be read gets a failure frame",
          "[protocol][salvage][tcp]") {
  test_node server("server", pooled::make());
  const std::string address = server.listen();
  server.serve_here();
  server.start();
  wire_peer peer;
  REQUIRE(peer.open(address, preamble(1, 0)));
  const std::string sender = wire_peer::sender();
  const std::string body = str("hi");
  struct bad_case {
    const char* what;
    std::string frame;
    errc code;
  };
  const bad_case cases[] = {
      {"target name not UTF-8", frame(wire::frame_kind::request, 1, 1, str("ser\xffver") + sender + varint(11) + str("string") + body),
       errc::bad_message},
      {"target slot out of range",
       frame(wire::frame_kind::request, 1, 0, le64(7) + le64(8) + varint(1ull << 35) + sender + varint(12) + str("string") + body),
       errc::bad_message},
      {"unknown codec", frame(wire::frame_kind::request, 5, 1, str("server") + sender + varint(13) + str("string") + body),
       errc::protocol},
      {"type name not UTF-8", frame(wire::frame_kind::request, 1, 1, str("server") + sender + varint(14) + str("\xed\xa0\x80")),
       errc::bad_message},
      {"a body that does not decode",
       frame(wire::frame_kind::request, 1, 1, str("server") + sender + varint(15) + str("tcp_test::ping") + "\x09\x09"),
       errc::bad_message},
      {"an unknown name", frame(wire::frame_kind::request, 1, 1, str("nobody") + sender + varint(16) + str("string") + body),
       errc::no_such_name},
  };
  for (const auto& c : cases) peer.write(c.frame);
  std::size_t answered = 0;
  std::string keep;
  for (const auto& c : cases) {
    INFO(c.what);
    auto f = peer.next(keep);
    REQUIRE(f);
    CHECK(f->kind == wire::frame_kind::failure);
    CHECK(f->format == codec{});  // failure frames carry codec 0
    CHECK(f->to == pid(wire_peer::incarnation, wire_peer::my_id, 0));
    CHECK(f->tag == 11 + answered);
    auto status = wire::read_status(f->payload);
    REQUIRE(status);
    CHECK(status->code == static_cast<int>(c.code));
    ++answered;
  }
  server.stop();
  CHECK(answered == std::size(cases));
  // The four frames that did not parse were reported on the node too (the undecodable body and the
  // unknown name are the requester's business: its failure reply says it all).
  CHECK(server.errors().count(errc::bad_message) + server.errors().count(errc::protocol) == 4);
}

TEST_CASE("protocol: a reply goes back in the codec of its request", "[protocol][codec][tcp]") {
  const codec node_format = GENERATE(codec::binary, codec::json);
  INFO("the node encodes with codec " << static_cast<int>(node_format));
  test_node server("server", pooled::make(), node_format);
  const std::string address = server.listen();
  server.serve_here();
  server.start();
  wire_peer peer;
  REQUIRE(peer.open(address, preamble(1, 0)));
  // ping{n, text, reply_to}: binary is 3 fields; json an object. reply_to null: no pong, just the reply.
  peer.write(request_to_server(2, 1, "tcp_test::ping", R"({"n":1,"text":"json","reply_to":null})"));
  peer.write(request_to_server(1, 2, "tcp_test::ping", bytes_of({3, 2}) + str("bin") + le64(0)));
  std::string keep;
  auto first = peer.next(keep);
  REQUIRE(first);
  CHECK(first->kind == wire::frame_kind::reply);
  CHECK(first->tag == 1);
  CHECK(first->format == codec::json);
  CHECK(first->type == "string");
  CHECK(first->payload == R"("pong:json")");
  auto second = peer.next(keep);
  REQUIRE(second);
  CHECK(second->kind == wire::frame_kind::reply);
  CHECK(second->tag == 2);
  CHECK(second->format == codec::binary);
  CHECK(second->payload == str("pong:bin"));
  server.stop();
  CHECK(server.errors().size() == 0);
}

TEST_CASE("protocol: a peer speaking versions 1..2 is served in version 1, one speaking only 2 is refused",
          "[protocol][version][tcp]") {
  test_node server("server", pooled::make());
  const std::string address = server.listen();
  server.serve_here();
  server.start();
  {
    wire_peer future;
    REQUIRE(future.open(address, preamble(2, 1)));
    future.write(request_to_server(1, 5, "tcp_test::ping", bytes_of({3, 2}) + str("v") + le64(0)));
    std::string keep;
    auto reply = future.next(keep);
    REQUIRE(reply);
    CHECK(reply->kind == wire::frame_kind::reply);
    CHECK(reply->payload == str("pong:v"));
    CHECK(future.node_preamble() == preamble(1, 0));
  }
  {
    wire_peer only_two;
    REQUIRE(only_two.open(address, preamble(2, 0)));
    std::string keep;
    auto bye = only_two.next(keep);
    REQUIRE(bye);
    REQUIRE(bye->kind == wire::frame_kind::bye);
    auto status = wire::read_status(bye->payload);
    REQUIRE(status);
    CHECK(status->code == static_cast<int>(errc::protocol));
    CHECK_THAT(status->detail, Catch::Contains("incompatible versions 2..2 (peer) and 1..1 (this node)"));
    CHECK(!only_two.read_frame());  // then the node closes
  }
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (server.errors().count(errc::protocol) == 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(10ms);
  server.stop();
  CHECK(server.errors().count(errc::protocol) >= 1);
}

TEST_CASE("protocol: a connection exposes the version it agreed on", "[protocol][version][tcp]") {
  test_node server("server", pooled::make());
  const std::string address = server.listen();
  server.serve_here();
  server.start();

  struct seen_by_connection {
    std::mutex mutex;
    int version = -1;
    std::optional<error> ended;
  };
  auto run_one = [&](wire::version_range ours) {
    auto seen = std::make_shared<seen_by_connection>();
    asio::io_context io;
    auto ex = asio::make_strand(io);
    std::shared_ptr<tcp::connection> conn;
    node_identity me;
    me.incarnation = 0x5151;
    me.name = "future";
    me.format = codec::binary;
    tcp::async_connect(ex, address, 5s, [&, seen](result<tcp::socket> s) {
      if (!s) {
        seen->ended = s.error();
        return;
      }
      tcp::connection_options o;
      o.versions = ours;
      tcp::connection::handlers h;
      h.hello = [seen](tcp::connection& c, const wire::hello&) {
        {
          std::lock_guard lock(seen->mutex);
          seen->version = c.version();
        }
        c.close(error(errc::stopped, "done"));  // (runs the closed handler at once, on this strand)
      };
      h.frames = [](tcp::connection&, std::string_view) {};
      h.closed = [seen](tcp::connection&, tcp::connection_end end) {
        std::lock_guard lock(seen->mutex);
        seen->ended = end.why;
      };
      conn = tcp::connection::make(std::move(*s), ex, o, std::move(h));
      conn->start(me, wire::connection_mode::pooled);
    });
    io.run_for(std::chrono::seconds(10));
    return seen;
  };
  auto future = run_one({1, 2});
  CHECK(future->version == 1);
  auto only_two = run_one({2, 2});
  CHECK(only_two->version == -1);  // no hello: refused
  REQUIRE(only_two->ended);
  CHECK(*only_two->ended == errc::protocol);
  CHECK_THAT(only_two->ended->detail(), Catch::Contains("incompatible versions 1..1 (peer) and 2..2 (this node)"));
  server.stop();
}

TEST_CASE("protocol: a client without processes may send with no sender, or as a pid of its own making",
          "[protocol][sender][tcp]") {
  test_node server("server", pooled::make());
  const std::string address = server.listen();
  server.serve_here();
  server.start();
  wire_peer peer;
  REQUIRE(peer.open(address, preamble(1, 0)));
  // Two seq messages without a sender (incarnation 0), then a count_query from the made-up pid.
  const std::string no_sender = le64(0);
  for (unsigned n : {0u, 1u})
    peer.write(frame(wire::frame_kind::message, 1, wire::flag_to_name,
                     str("server") + no_sender + varint(0) + str("tcp_test::seq") + bytes_of({1, 2 * n})));
  peer.write(request_to_server(1, 9, "tcp_test::count_query", bytes_of({1, 0})));
  std::string keep;
  auto reply = peer.next(keep);
  REQUIRE(reply);
  CHECK(reply->kind == wire::frame_kind::reply);
  CHECK(reply->tag == 9);
  CHECK(reply->to == pid(wire_peer::incarnation, wire_peer::my_id, 0));  // back to the made-up pid
  CHECK(reply->type == "tcp_test::count_reply");
  CHECK(reply->payload == bytes_of({2, 4, 1}));  // {received 2 (zigzag 4), in_order true}
  server.stop();
  CHECK(server.errors().size() == 0);
}

TEST_CASE("protocol: a heartbeat is the transport's: never delivered, refused or acked, on either kind of connection",
          "[protocol][heartbeat][tcp]") {
  auto seq_to_server = [](unsigned n) {
    return frame(wire::frame_kind::message, 1, wire::flag_to_name,
                 str("server") + le64(0) + varint(0) + str("tcp_test::seq") + bytes_of({1, 2 * n}));
  };
  test_node server("server", pooled::make());
  const std::string address = server.serve_from_here();
  // Per-message: one ack per data frame, none for the heartbeat.
  raw_socket s;
  REQUIRE(s.connect(address));
  std::string out;
  wire::write_greeting(out, node_identity{77, "raw", "", codec::binary}, wire::connection_mode::per_message);
  out += seq_to_server(0) + std::string(wire::heartbeat_frame());
  wire::write_bye(out, error(errc::stopped, "done"));  // the node flushes its acks and closes: read to EOF
  s.write(out);
  CHECK(kinds_in(s.read_all()) == std::vector<wire::frame_kind>{wire::frame_kind::hello, wire::frame_kind::ack});
  // Pooled, heartbeats not agreed (this client announced none): a heartbeat is still no error.
  wire_peer peer;
  REQUIRE(peer.open(address, preamble(1, 0)));
  peer.write(seq_to_server(1) + std::string(wire::heartbeat_frame()) + seq_to_server(2));
  peer.write(request_to_server(1, 5, "tcp_test::count_query", bytes_of({1, 0})));
  std::string keep;
  auto reply = peer.next(keep);
  REQUIRE(reply);
  CHECK(reply->kind == wire::frame_kind::reply);
  CHECK(reply->payload == bytes_of({2, 6, 1}));  // all three messages, in order: nothing else counted
  server.stop();
  CHECK(server->stats().bad_frames == 0);
  INFO(server.errors().dump());
  CHECK(server.errors().size() == 0);
}
