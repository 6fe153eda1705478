// Frames and the handshake (include/coactor/wire/frame.hpp, handshake.hpp): writing and parsing every
// kind of frame, the sender's address, the preamble, size limits, and hostile bytes.
//
// Expected bytes were worked out by hand from the layout at the top of frame.hpp.
#include <coactor/address_book.hpp>
#include <coactor/wire/frame.hpp>
#include <coactor/wire/handshake.hpp>

#include <catch2/catch.hpp>

#include "bytes.hpp"

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

using namespace coactor;
using namespace coactor::wire;

namespace {

using wire_test::bytes_of;
using wire_test::framed;
using wire_test::le64;


struct envelope_spec {
  frame_kind kind = frame_kind::message;
  codec format = codec::binary;
  pid to;
  std::string_view to_name;
  pid from;
  std::uint64_t tag = 0;
  std::string_view type;
  std::string_view payload;
  wire_context ctx;
};

/// A message, request, reply or failure frame, written the way the router writes one.
std::string write_frame(const envelope_spec& s) {
  std::string out;
  const bool failure = s.kind == frame_kind::failure;
  const std::size_t start = begin_frame(out, s.kind, failure ? codec{} : s.format, s.to_name.empty() ? 0 : flag_to_name);
  write_envelope_fields(out, s.to, s.to_name, s.from, s.tag, s.type, s.ctx, !failure);
  out += s.payload;
  end_frame(out, start);
  return out;
}

frame_view parsed(std::string_view frame, std::uint64_t local = 0, std::string_view peer = {}) {
  auto size = frame_size(frame);
  REQUIRE(size);
  REQUIRE(*size == frame.size());
  auto f = parse_frame(frame, local, peer);
  if (!f) FAIL(f.error().message());
  return *f;
}

error parse_failure(std::string_view frame, std::uint64_t local = 0, std::string_view peer = {}) {
  auto f = parse_frame(frame, local, peer);
  if (f) FAIL("parsed without error");
  return f.error();
}

node_identity identity(std::uint64_t incarnation, std::string name, std::string address, codec format) {
  node_identity n;
  n.incarnation = incarnation;
  n.name = std::move(name);
  n.address = std::move(address);
  n.format = format;
  return n;
}

/// A hello frame: its header (kind 1, codec 0, flags 0) and `body`.
std::string hello_frame(std::string_view body) { return framed(bytes_of({0x01, 0x00, 0x00, 0x00}) + std::string(body)); }

std::string str(std::string_view s) { return bytes_of({static_cast<unsigned>(s.size())}) + std::string(s); }

}  // namespace

// ---- the bytes ----

TEST_CASE("frame: the bytes of a message frame are pinned", "[wire][frame]") {
  envelope_spec s;
  s.to = pid(1, 2, 3);
  s.tag = 5;
  s.type = "ab";
  s.payload = "\x01\x02";
  const std::string expected = bytes_of({35, 0, 0, 0,           // length of the rest
                                         0x02, 0x01, 0x00, 0x00})  // message, binary, no flags
                               + le64(1) + le64(2) + bytes_of({0x03})  // target incarnation, id, slot
                               + le64(0)                               // no sender
                               + bytes_of({0x05})                      // tag
                               + bytes_of({0x02, 'a', 'b'})            // type name
                               + bytes_of({0x01, 0x02});               // payload
  CHECK(write_frame(s) == expected);

  // To a name, from a remote process with an address, as a request in JSON.
  envelope_spec n;
  n.kind = frame_kind::request;
  n.format = codec::json;
  n.to_name = "log";
  n.from = pid(0x0a, 0x0b, 300, address_book::process().intern("h:9"));
  n.tag = 1;
  n.type = "t";
  n.payload = "{}";
  const std::string body = bytes_of({0x03, 0x02, 0x01, 0x00})         // request, json, flag_to_name
                           + str("log")                               // target name
                           + le64(0x0a) + le64(0x0b) + bytes_of({0xac, 0x02})  // sender; slot 300
                           + str("h:9")                               // sender's address
                           + bytes_of({0x01}) + str("t") + "{}";
  CHECK(write_frame(n) == framed(body));
}

TEST_CASE("frame: the preamble", "[wire][frame]") {
  std::string p;
  write_preamble(p);
  CHECK(p == bytes_of({'C', 'o', 'A', 'c', 0x01, 0x00, 0x00, 0x00}));
  CHECK(*check_preamble(p) == 1);
  // The second u16 is the lowest version the peer speaks (0: the same as the highest).
  CHECK(*check_preamble(bytes_of({'C', 'o', 'A', 'c', 0x01, 0x00, 0x01, 0x00})) == 1);
  CHECK(*check_preamble(bytes_of({'C', 'o', 'A', 'c', 0x02, 0x00, 0x01, 0x00})) == 1);

  auto fails = [](std::string_view in, std::string_view what) {
    auto r = check_preamble(in);
    REQUIRE(!r);
    CHECK(r.error() == errc::protocol);
    CHECK(r.error().detail() == what);
  };
  fails(bytes_of({'C', 'o', 'A', 'c', 0x02, 0x00, 0x00, 0x00}), "incompatible versions 2..2 (peer) and 1..1 (this node)");
  fails(bytes_of({'C', 'o', 'A', 'c', 0x00, 0x01, 0x00, 0x00}), "incompatible versions 256..256 (peer) and 1..1 (this node)");
  fails(bytes_of({'C', 'o', 'A', 'c', 0x00, 0x00, 0x00, 0x00}), "the peer's preamble says version 0, which does not exist");
  fails(bytes_of({'C', 'o', 'A', 'c', 0x01, 0x00, 0xff, 0xff}), "the peer's preamble says versions 65535..1: its lowest is above its highest");
  fails(bytes_of({'c', 'o', 'A', 'c', 0x01, 0x00, 0x00, 0x00}), "the peer does not speak the coactor protocol");
  fails("GET / HT", "the peer does not speak the coactor protocol");
  fails(p.substr(0, 7), "the peer does not speak the coactor protocol");
  fails(p + "x", "the peer does not speak the coactor protocol");
  fails("", "the peer does not speak the coactor protocol");
}

TEST_CASE("frame: frame_size", "[wire][frame]") {
  // Not enough for the length field yet: 0.
  for (std::size_t n = 0; n < 4; ++n) {
    auto r = frame_size(std::string(n, '\x10'));
    REQUIRE(r);
    CHECK(*r == 0);
  }
  CHECK(*frame_size(bytes_of({4, 0, 0, 0})) == 8);
  CHECK(*frame_size(bytes_of({0x10, 0, 0, 0, 9, 9})) == 20);  // incomplete frames still report their size
  CHECK(*frame_size(bytes_of({0x00, 0x01, 0x02, 0x00})) == 0x020100 + 4);

  auto r = frame_size(bytes_of({3, 0, 0, 0}));
  REQUIRE(!r);
  CHECK(r.error() == errc::bad_message);
  CHECK(r.error().detail() == "frame of 3 bytes is too short");
  CHECK(frame_size(bytes_of({0, 0, 0, 0})).error() == errc::bad_message);

  // The limit: at it is fine, over it is too_large.
  const frame_limits limits{1000};
  CHECK(*frame_size(bytes_of({0xe8, 0x03, 0, 0}), limits) == 1004);
  r = frame_size(bytes_of({0xe9, 0x03, 0, 0}), limits);
  REQUIRE(!r);
  CHECK(r.error() == errc::too_large);
  CHECK(r.error().detail() == "frame of 1001 bytes exceeds the limit of 1000");
  // The default limit: a 64 MiB message and 4 KiB of header.
  const std::uint32_t max = (64u << 20) + 4096;
  CHECK(*frame_size(bytes_of({max & 0xff, (max >> 8) & 0xff, (max >> 16) & 0xff, max >> 24})) ==
        max + 4);
  CHECK(frame_size(bytes_of({(max + 1) & 0xff, ((max + 1) >> 8) & 0xff, ((max + 1) >> 16) & 0xff, (max + 1) >> 24})).error() ==
        errc::too_large);
  CHECK(frame_size(bytes_of({0xff, 0xff, 0xff, 0xff})).error() == errc::too_large);
}

// ---- round trips ----

TEST_CASE("frame: every kind of frame round trips", "[wire][frame]") {
  const std::uint64_t me = 0x77, them = 0x88;
  const wire_context ctx{them, "them:1"};  // written by node `them`, parsed by node `me`
  const pid target(me, 0x1234567890abcdefull, 0xffffffffu);
  const pid sender(them, 0x42, 9);
  for (frame_kind kind : {frame_kind::message, frame_kind::request, frame_kind::reply}) {
    for (codec format : {codec::binary, codec::json}) {
      for (std::string_view name : {std::string_view{}, std::string_view("logger")}) {
        INFO("kind " << static_cast<int>(kind) << " codec " << static_cast<int>(format) << " name '" << name << "'");
        envelope_spec s;
        s.kind = kind;
        s.format = format;
        s.to = name.empty() ? target : pid{};
        s.to_name = name;
        s.from = sender;
        s.tag = kind == frame_kind::message ? 0 : 0xfedcba9876543210ull;
        s.type = "app::ping";
        s.payload = std::string_view("\x00payload\xff", 9);
        s.ctx = ctx;
        const std::string bytes = write_frame(s);
        const frame_view f = parsed(bytes, me, "them:1");
        CHECK(f.kind == kind);
        CHECK(f.format == format);
        CHECK(f.flags == (name.empty() ? 0 : flag_to_name));
        if (name.empty()) {
          CHECK(f.to == target);
          CHECK(f.to.slot() == 0xffffffffu);
          CHECK(f.to_name.empty());
        } else {
          CHECK(f.to.is_null());
          CHECK(f.to_name == name);
        }
        CHECK(f.from == sender);
        CHECK(f.from.address() == "them:1");  // sent without address: the peer's own
        CHECK(f.from_address.empty());
        CHECK(f.tag == s.tag);
        CHECK(f.type == "app::ping");
        CHECK(f.payload == s.payload);
      }
    }
  }

  // failure: no codec, no type; the payload is a status
  envelope_spec s;
  s.kind = frame_kind::failure;
  s.to = target;
  s.from = sender;
  s.tag = 3;
  s.ctx = ctx;
  std::string status_bytes;
  write_status(status_bytes, static_cast<int>(errc::no_such_name), "'logger'");
  CHECK(status_bytes == bytes_of({0x03, 0x08}) + "'logger'");
  s.payload = status_bytes;
  const std::string failure_bytes = write_frame(s);  // the frame_view points into it
  const frame_view f = parsed(failure_bytes, me, "them:1");
  CHECK(f.kind == frame_kind::failure);
  CHECK(f.format == codec{});
  CHECK(f.to == target);
  CHECK(f.from == sender);
  CHECK(f.tag == 3);
  CHECK(f.type.empty());
  auto st = read_status(f.payload);
  REQUIRE(st);
  CHECK(st->code == static_cast<int>(errc::no_such_name));
  CHECK(st->detail == "'logger'");
  CHECK(st->to_error() == errc::no_such_name);
  CHECK(st->to_error().detail() == "'logger'");

  // ack and bye: a header and a status
  for (frame_kind kind : {frame_kind::ack, frame_kind::bye}) {
    std::string out;
    const std::size_t start = begin_frame(out, kind, codec{}, 0);
    write_status(out, 0, "");
    end_frame(out, start);
    CHECK(out == bytes_of({6, 0, 0, 0, static_cast<unsigned>(kind), 0, 0, 0, 0, 0}));
    const frame_view a = parsed(out);
    CHECK(a.kind == kind);
    auto ok = read_status(a.payload);
    REQUIRE(ok);
    CHECK(ok->code == 0);
    CHECK(!ok->to_error().code());
  }
  std::string bye;
  write_bye(bye, error(errc::protocol, "bad hello"));
  const frame_view b = parsed(bye);
  CHECK(b.kind == frame_kind::bye);
  auto why = read_status(b.payload);
  REQUIRE(why);
  CHECK(why->code == static_cast<int>(errc::protocol));
  CHECK(why->to_error() == errc::protocol);
  CHECK_THAT(why->detail, Catch::Contains("bad hello"));

  // heartbeat: a header alone (kind 8); a body, should one come, is ignored
  CHECK(heartbeat_frame() == bytes_of({4, 0, 0, 0, 8, 0, 0, 0}));
  const std::string beat(heartbeat_frame());
  const frame_view h = parsed(beat);  // (a view into `beat`)
  CHECK(h.kind == frame_kind::heartbeat);
  CHECK(h.payload.empty());
  const std::string with_body = framed(bytes_of({8, 0, 0, 0, 0x2a}));
  const frame_view later = parsed(with_body);
  CHECK(later.kind == frame_kind::heartbeat);
  CHECK(later.payload == bytes_of({0x2a}));
}

TEST_CASE("frame: the sender's address", "[wire][frame]") {
  const std::uint64_t me = 0x10, peer = 0x20, third = 0x30;
  envelope_spec s;
  s.to = pid(me, 1, 1);
  s.type = "t";

  // No sender.
  {
    const std::string bytes = write_frame(s);
    const frame_view f = parsed(bytes, me, "peer:1");
    CHECK(f.from.is_null());
    CHECK(f.from_address.empty());
  }
  // The peer's own process: written without an address, given the peer's address when parsed.
  s.from = pid(peer, 2, 2);
  s.ctx = wire_context{peer, "peer:1"};
  {
    const std::string bytes = write_frame(s);
    CHECK(bytes.find("peer:1") == std::string::npos);
    const frame_view f = parsed(bytes, me, "peer:1");
    CHECK(f.from == s.from);
    CHECK(f.from.address() == "peer:1");
    CHECK(f.from_address.empty());
    // A peer that does not listen has no address: neither has its pid then.
    const frame_view g = parsed(bytes, me, "");
    CHECK(g.from == s.from);
    CHECK(g.from.address().empty());
  }
  // A third node's process, forwarded by the peer: written with its own address, which wins.
  s.from = pid(third, 3, 3, address_book::process().intern("third:1"));
  {
    const std::string bytes = write_frame(s);
    CHECK(bytes.find("third:1") != std::string::npos);
    const frame_view f = parsed(bytes, me, "peer:1");
    CHECK(f.from == s.from);
    CHECK(f.from.address() == "third:1");
    CHECK(f.from_address == "third:1");
  }
  // One of our own processes, coming back: local, with no address.
  s.from = pid(me, 4, 4, address_book::process().intern("me:1"));
  {
    const std::string bytes = write_frame(s);
    const frame_view f = parsed(bytes, me, "peer:1");
    CHECK(f.from == s.from);
    CHECK(f.from.address_index() == 0);
    CHECK(f.from_address == "me:1");
  }
}

TEST_CASE("frame: hello round trips", "[wire][handshake]") {
  for (codec format : {codec::binary, codec::json}) {
    const node_identity self = identity(0xdeadbeefcafef00dull, "node-é", "10.0.0.1:9000", format);
    std::string out;
    write_greeting(out, self);
    REQUIRE(out.size() > preamble_bytes);
    CHECK(check_preamble(out.substr(0, preamble_bytes)));
    const std::string frame = out.substr(preamble_bytes);
    // kind 1, codec 0, flags 0; incarnation; "node-é" (7 bytes); the address; codec; capabilities; extensions
    const std::string body = bytes_of({0x01, 0x00, 0x00, 0x00}) + le64(0xdeadbeefcafef00dull) + str("node-é") +
                             str("10.0.0.1:9000") + bytes_of({static_cast<unsigned>(format), 0, 0, 0, 0, 0});
    CHECK(frame == framed(body));
    REQUIRE(*frame_size(frame) == frame.size());
    auto h = parse_hello(frame);
    if (!h) FAIL(h.error().message());
    CHECK(h->node.incarnation == self.incarnation);
    CHECK(h->node.name == "node-é");
    CHECK(h->node.address == "10.0.0.1:9000");
    CHECK(h->node.format == format);
    CHECK(h->capabilities == 0);
    CHECK(h->extensions.empty());
  }
  // A node that does not listen: empty address.
  std::string out;
  write_greeting(out, identity(1, "", "", codec::binary));
  auto h = parse_hello(std::string_view(out).substr(preamble_bytes));
  REQUIRE(h);
  CHECK(h->node.name.empty());
  CHECK(h->node.address.empty());
  // Extensions and capabilities from a newer peer are read (and capabilities kept).
  const std::string body = le64(7) + str("n") + str("a:1") + bytes_of({0x01, 0x05, 0x00, 0x00, 0x80}) + bytes_of({0x02}) +
                           str("cookie") + str("abc") + str("") + str("");
  auto e = parse_hello(hello_frame(body));
  if (!e) FAIL(e.error().message());
  CHECK(e->capabilities == 0x80000005u);
  REQUIRE(e->extensions.size() == 2);
  CHECK(e->extensions[0] == std::pair<std::string, std::string>{"cookie", "abc"});
  CHECK(e->extensions[1] == std::pair<std::string, std::string>{"", ""});
}

// ---- hostile bytes ----

TEST_CASE("frame: malformed hellos are refused with errc::protocol", "[wire][handshake][hostile]") {
  auto refused = [](std::string_view frame, std::string_view what) {
    auto h = parse_hello(frame);
    REQUIRE(!h);
    CHECK(h.error() == errc::protocol);
    CHECK_THAT(h.error().detail(), Catch::Contains(std::string(what)));
  };
  const std::string good = le64(7) + str("n") + str("a:1") + bytes_of({0x01, 0, 0, 0, 0, 0x00});
  REQUIRE(parse_hello(hello_frame(good)));
  // Every truncation of the body.
  for (std::size_t n = 0; n < good.size(); ++n) {
    INFO("body cut to " << n);
    refused(hello_frame(good.substr(0, n)), "hello");
  }
  refused(hello_frame(le64(0) + str("n") + str("a:1") + bytes_of({0x01, 0, 0, 0, 0, 0x00})), "hello: incarnation 0");
  refused(hello_frame(le64(7) + str("n") + str("a:1") + bytes_of({0x03, 0, 0, 0, 0, 0x00})), "hello: unknown codec 3");
  refused(hello_frame(le64(7) + str("n") + str("a:1") + bytes_of({0x00, 0, 0, 0, 0, 0x00})), "hello: unknown codec 0");
  refused(hello_frame(le64(7) + str("n\xff") + str("a:1") + bytes_of({0x01, 0, 0, 0, 0, 0x00})), "node name is not valid UTF-8");
  refused(hello_frame(le64(7) + str("n") + str("a\xc0\x80") + bytes_of({0x01, 0, 0, 0, 0, 0x00})),
          "node address is not valid UTF-8");
  refused(hello_frame(le64(7) + bytes_of({0x80, 0x02}) + std::string(256, 'n') + str("") + bytes_of({0x01, 0, 0, 0, 0, 0})),
          "node name longer than 255 bytes");
  // 65 extensions, each present: more than 64.
  std::string many = le64(7) + str("n") + str("") + bytes_of({0x01, 0, 0, 0, 0, 65});
  for (int i = 0; i < 65; ++i) many += str("k") + str("v");
  refused(hello_frame(many), "hello: more than 64 extensions");
  // A declared count of extensions the bytes cannot hold.
  refused(hello_frame(le64(7) + str("n") + str("") + bytes_of({0x01, 0, 0, 0, 0, 0xff, 0xff, 0x03})), "declared length");
  refused(hello_frame(le64(7) + str("n") + str("") + bytes_of({0x01, 0, 0, 0, 0, 0x01}) + str("k") + str("v\xff")),
          "extension value is not valid UTF-8");
  // Another kind of frame.
  std::string bye;
  write_bye(bye, error(errc::stopped, "x"));
  refused(bye, "expected a hello frame, got kind 7");
  // Not a frame at all.
  refused(bytes_of({4, 0, 0, 0, 0x0b, 0, 0, 0}), "unknown frame kind 11");
  refused("", "hello: ");
}

TEST_CASE("frame: truncated frames are refused at every cut", "[wire][frame][hostile]") {
  envelope_spec s;
  s.kind = frame_kind::request;
  s.to_name = "some-name";
  s.from = pid(0x99, 0x98, 1000, address_book::process().intern("x:1"));
  s.tag = 0xffffffffffffffffull;
  s.type = "app::type";
  s.payload = "PAYLOAD";
  const std::string full = write_frame(s);
  const std::size_t header = full.size() - s.payload.size();
  for (std::size_t n = 0; n < full.size(); ++n) {
    INFO("cut to " << n << " of " << full.size());
    const std::string_view cut = std::string_view(full).substr(0, n);
    // The bytes so far do not make a frame yet.
    auto size = frame_size(cut);
    REQUIRE(size);
    CHECK((*size == 0 || *size > n));
    // Given as a frame on its own, with a length field that agrees with the cut: the envelope must be complete,
    // then whatever follows is the payload.
    std::string shorter(cut);
    if (n >= 4) {
      shorter = framed(cut.substr(4));
      auto f = parse_frame(shorter, 0, {});
      if (n >= header) {
        REQUIRE(f);
        CHECK(f->payload == s.payload.substr(0, n - header));
        CHECK(f->type == "app::type");
      } else {
        REQUIRE(!f);
        CHECK(f.error() == errc::bad_message);
      }
    } else {
      CHECK(parse_failure(shorter) == errc::bad_message);
    }
    // Given with the original length field: it does not match the bytes.
    if (n >= 4) CHECK(parse_failure(cut) == errc::bad_message);
  }
}

TEST_CASE("frame: malformed frames", "[wire][frame][hostile]") {
  auto fails = [](std::string_view frame, errc code, std::string_view what) {
    const error e = parse_failure(frame);
    CHECK(e == code);
    CHECK_THAT(e.detail(), Catch::Contains(std::string(what)));
  };
  const std::string target = le64(1) + le64(2) + bytes_of({0x00});
  const std::string no_sender = le64(0);
  fails(framed(bytes_of({0x00, 0x01, 0x00, 0x00})), errc::protocol, "unknown frame kind 0");
  fails(framed(bytes_of({0x0b, 0x01, 0x00, 0x00})), errc::protocol, "unknown frame kind 11");
  fails(framed(bytes_of({0xff, 0x01, 0x00, 0x00})), errc::protocol, "unknown frame kind 255");
  for (unsigned kind : {2u, 3u, 4u}) {
    INFO("kind " << kind);
    fails(framed(bytes_of({kind, 0x00, 0x00, 0x00}) + target + no_sender + bytes_of({0x00, 0x01, 't'})), errc::protocol,
          "unknown codec 0");
    fails(framed(bytes_of({kind, 0x03, 0x00, 0x00}) + target + no_sender + bytes_of({0x00, 0x01, 't'})), errc::protocol,
          "unknown codec 3");
  }
  // A null target.
  fails(framed(bytes_of({0x02, 0x01, 0x00, 0x00}) + le64(0) + le64(2) + bytes_of({0x00}) + no_sender + bytes_of({0x00, 0x01, 't'})),
        errc::bad_message, "frame target: null pid");
  // A target with id 0, a slot beyond 32 bits.
  fails(framed(bytes_of({0x02, 0x01, 0x00, 0x00}) + le64(1) + le64(0) + bytes_of({0x00}) + no_sender + bytes_of({0x00, 0x01, 't'})),
        errc::bad_message, "frame target: pid with id 0");
  fails(framed(bytes_of({0x02, 0x01, 0x00, 0x00}) + le64(1) + le64(2) + bytes_of({0x80, 0x80, 0x80, 0x80, 0x10}) + no_sender +
               bytes_of({0x00, 0x01, 't'})),
        errc::bad_message, "frame target: pid slot out of range");
  // Target names: too long, not UTF-8, empty.
  fails(framed(bytes_of({0x02, 0x01, 0x01, 0x00, 0x80, 0x02}) + std::string(256, 'n') + no_sender + bytes_of({0x00, 0x01, 't'})),
        errc::bad_message, "frame target: target name longer than 255 bytes");
  CHECK(parse_frame(framed(bytes_of({0x02, 0x01, 0x01, 0x00, 0xff, 0x01}) + std::string(255, 'n') + no_sender +
                           bytes_of({0x00, 0x01, 't'})),
                    0, {}));
  fails(framed(bytes_of({0x02, 0x01, 0x01, 0x00}) + str("\xed\xa0\x80") + no_sender + bytes_of({0x00, 0x01, 't'})),
        errc::bad_message, "frame target: target name is not valid UTF-8");
  fails(framed(bytes_of({0x02, 0x01, 0x01, 0x00}) + str("") + no_sender + bytes_of({0x00, 0x01, 't'})), errc::bad_message,
        "frame target: target name is empty");
  // Sender: id 0, address too long or not UTF-8.
  fails(framed(bytes_of({0x02, 0x01, 0x00, 0x00}) + target + le64(5) + le64(0) + bytes_of({0x00, 0x00, 0x00, 0x01, 't'})),
        errc::bad_message, "frame sender: pid with id 0");
  fails(framed(bytes_of({0x02, 0x01, 0x00, 0x00}) + target + le64(5) + le64(6) + bytes_of({0x00, 0x80, 0x02}) +
               std::string(256, 'a') + bytes_of({0x00, 0x01, 't'})),
        errc::bad_message, "frame sender: sender address longer than 255 bytes");
  fails(framed(bytes_of({0x02, 0x01, 0x00, 0x00}) + target + le64(5) + le64(6) + bytes_of({0x00}) + str("\xc0\xaf") +
               bytes_of({0x00, 0x01, 't'})),
        errc::bad_message, "frame sender: sender address is not valid UTF-8");
  // Tag: a varint overflowing 64 bits.
  fails(framed(bytes_of({0x02, 0x01, 0x00, 0x00}) + target + no_sender + std::string(10, '\xff') + bytes_of({0x01, 't'})),
        errc::bad_message, "frame tag: varint overflows 64 bits");
  // Type names: too long, not UTF-8, longer than the frame.
  fails(framed(bytes_of({0x02, 0x01, 0x00, 0x00}) + target + no_sender + bytes_of({0x00, 0x81, 0x08}) + std::string(1025, 't')),
        errc::bad_message, "frame type: type name longer than 1024 bytes");
  CHECK(parse_frame(framed(bytes_of({0x02, 0x01, 0x00, 0x00}) + target + no_sender + bytes_of({0x00, 0x80, 0x08}) +
                           std::string(1024, 't')),
                    0, {}));
  fails(framed(bytes_of({0x02, 0x01, 0x00, 0x00}) + target + no_sender + bytes_of({0x00}) + str("\xf4\x90\x80\x80")),
        errc::bad_message, "frame type: type name is not valid UTF-8");
  fails(framed(bytes_of({0x02, 0x01, 0x00, 0x00}) + target + no_sender + bytes_of({0x00, 0x05, 't'})), errc::bad_message,
        "frame type: declared length 5 exceeds the 1 bytes left");
  // Shorter than a header, or a length field that disagrees with the bytes.
  fails(bytes_of({0x03, 0x00, 0x00, 0x00, 0x02, 0x01, 0x00}), errc::bad_message, "frame too short");
  fails(bytes_of({0x05, 0x00, 0x00, 0x00, 0x06, 0x00, 0x00, 0x00}), errc::bad_message, "does not match");
  fails(bytes_of({0x04, 0x00, 0x00, 0x00, 0x06, 0x00, 0x00, 0x00, 0x00}), errc::bad_message, "does not match");
  // Reserved flag bits are ignored; for frames without an envelope, the codec byte too.
  CHECK(parse_frame(framed(bytes_of({0x02, 0x01, 0xfe, 0xff}) + target + no_sender + bytes_of({0x00, 0x01, 't'})), 0, {}));
  CHECK(parse_frame(framed(bytes_of({0x06, 0x07, 0x00, 0x00, 0x00, 0x00})), 0, {}));
}

TEST_CASE("frame: malformed status payloads", "[wire][frame][hostile]") {
  auto fails = [](std::string_view payload, std::string_view what) {
    auto r = read_status(payload);
    REQUIRE(!r);
    CHECK(r.error() == errc::bad_message);
    CHECK_THAT(r.error().detail(), Catch::Contains(std::string(what)));
  };
  CHECK(read_status(bytes_of({0xff, 0xff, 0x03, 0x00}))->code == 0xffff);
  fails(bytes_of({0x80, 0x80, 0x04, 0x00}), "status code out of range");
  fails("", "status: truncated");
  fails(bytes_of({0x01}), "status: truncated");
  fails(bytes_of({0x01, 0x02, 'a'}), "status: declared length 2 exceeds the 1 bytes left");
  fails(bytes_of({0x01, 0x01, 0xff}), "status detail is not valid UTF-8");
  fails(bytes_of({0x01, 0x81, 0x80, 0x04}) + std::string(65537, 'x'), "status detail longer than 65536 bytes");
  CHECK(read_status(bytes_of({0x01, 0x80, 0x80, 0x04}) + std::string(65536, 'x')));
  // Bytes after the detail are ignored.
  CHECK(read_status(bytes_of({0x01, 0x01, 'a', 'b'})));
}

TEST_CASE("frame: write_status writes only details that read_status accepts", "[wire][frame]") {
  auto round_trip = [](std::string_view detail) {
    std::string out;
    write_status(out, 5, detail);
    auto r = read_status(out);
    if (!r) FAIL(r.error().message());
    CHECK(r->code == 5);
    return r->detail;
  };
  CHECK(round_trip("plain é 😀") == "plain é 😀");
  CHECK(round_trip("") == "");
  // Bytes that are not UTF-8 (an exception's what() may hold anything) become '?'.
  CHECK(round_trip("a\xff\xfe" "b\xc3") == "a??b?");
  CHECK(round_trip("\xed\xa0\x80") == "???");
  // Longer than max_status_detail: cut there, on a character boundary.
  CHECK(round_trip(std::string(max_status_detail, 'x')) == std::string(max_status_detail, 'x'));
  CHECK(round_trip(std::string(max_status_detail + 10, 'x')) == std::string(max_status_detail, 'x'));
  const std::string cut = round_trip(std::string(max_status_detail - 1, 'x') + "é");  // é would end past the limit
  CHECK(cut == std::string(max_status_detail - 1, 'x'));
  CHECK(round_trip(std::string(max_status_detail + 5, '\xff')) == std::string(max_status_detail, '?'));
}

TEST_CASE("frame: the hello's connection mode, extension \"mode\"", "[wire][handshake]") {
  const node_identity self = identity(7, "n", "a:1", codec::binary);
  // A per-message node says so; the bytes, by hand: one extension, "mode" = "per-message".
  std::string out;
  write_greeting(out, self, connection_mode::per_message);
  const std::string frame = out.substr(preamble_bytes);
  CHECK(frame == hello_frame(le64(7) + str("n") + str("a:1") + bytes_of({0x01, 0, 0, 0, 0, 0x01}) + str("mode") +
                             str("per-message")));
  auto h = parse_hello(frame);
  if (!h) FAIL(h.error().message());
  CHECK(h->mode == connection_mode::per_message);
  CHECK(h->extensions.empty());  // the mode is read into its field, not listed
  // A pooled node leaves it out, and a hello without it is pooled; "pooled" said explicitly is read too,
  // among other extensions, which are kept.
  std::string pooled;
  write_greeting(pooled, self, connection_mode::pooled);
  auto p = parse_hello(std::string_view(pooled).substr(preamble_bytes));
  REQUIRE(p);
  CHECK(p->mode == connection_mode::pooled);
  auto explicit_pooled = parse_hello(hello_frame(le64(7) + str("n") + str("") + bytes_of({0x01, 0, 0, 0, 0, 0x02}) +
                                                 str("cookie") + str("abc") + str("mode") + str("pooled")));
  if (!explicit_pooled) FAIL(explicit_pooled.error().message());
  CHECK(explicit_pooled->mode == connection_mode::pooled);
  CHECK(explicit_pooled->extensions == std::vector<std::pair<std::string, std::string>>{{"cookie", "abc"}});
  // A mode this node does not speak is refused: it could not answer the peer's frames as expected.
  auto unknown = parse_hello(hello_frame(le64(7) + str("n") + str("") + bytes_of({0x01, 0, 0, 0, 0, 0x01}) + str("mode") +
                                         str("carrier-pigeon")));
  REQUIRE_FALSE(unknown);
  CHECK(unknown.error() == errc::protocol);
  CHECK_THAT(unknown.error().detail(), Catch::Contains("unknown connection mode 'carrier-pigeon'"));
}

TEST_CASE("frame: the hello's heartbeat interval, extension \"heartbeat\"", "[wire][handshake]") {
  const node_identity self = identity(7, "n", "a:1", codec::binary);
  // Announced in whole milliseconds, as decimal digits; after "mode" when both are said.
  std::string out;
  write_greeting(out, self, connection_mode::per_message, supported_versions, std::chrono::milliseconds(250));
  const std::string frame = out.substr(preamble_bytes);
  CHECK(frame == hello_frame(le64(7) + str("n") + str("a:1") + bytes_of({0x01, 0, 0, 0, 0, 0x02}) + str("mode") +
                             str("per-message") + str("heartbeat") + str("250")));
  auto h = parse_hello(frame);
  if (!h) FAIL(h.error().message());
  CHECK(h->heartbeat == std::chrono::milliseconds(250));
  CHECK(h->mode == connection_mode::per_message);
  CHECK(h->extensions.empty());  // read into its field, not listed
  // Not announced: zero.
  std::string quiet;
  write_greeting(quiet, self);
  auto q = parse_hello(std::string_view(quiet).substr(preamble_bytes));
  REQUIRE(q);
  CHECK(q->heartbeat == std::chrono::milliseconds(0));
  // Anything but 1 to a day's milliseconds in digits is a malformed hello.
  for (const char* bad : {"", "0", "-5", "1.5", "abc", "86400001", "999999999999", " 100"}) {
    INFO("heartbeat '" << bad << "'");
    auto r = parse_hello(hello_frame(le64(7) + str("n") + str("") + bytes_of({0x01, 0, 0, 0, 0, 0x01}) + str("heartbeat") +
                                     str(bad)));
    REQUIRE_FALSE(r);
    CHECK(r.error() == errc::protocol);
    CHECK_THAT(r.error().detail(), Catch::Contains("heartbeat interval"));
  }
  auto longest = parse_hello(hello_frame(le64(7) + str("n") + str("") + bytes_of({0x01, 0, 0, 0, 0, 0x01}) +
                                         str("heartbeat") + str("86400000")));
  REQUIRE(longest);
  CHECK(longest->heartbeat == max_heartbeat_interval);
}

TEST_CASE("frame: sequenced streams, extension \"sequenced\" and the resume and received frames", "[wire][handshake]") {
  const node_identity self = identity(7, "n", "a:1", codec::binary);
  // Announced as "1", after the others.
  std::string out;
  write_greeting(out, self, connection_mode::pooled, supported_versions, std::chrono::milliseconds(100), true);
  const std::string frame = out.substr(preamble_bytes);
  CHECK(frame == hello_frame(le64(7) + str("n") + str("a:1") + bytes_of({0x01, 0, 0, 0, 0, 0x02}) + str("heartbeat") +
                             str("100") + str("sequenced") + str("1")));
  auto h = parse_hello(frame);
  if (!h) FAIL(h.error().message());
  CHECK(h->sequenced);
  CHECK(h->extensions.empty());
  std::string plain;
  write_greeting(plain, self);
  auto p = parse_hello(std::string_view(plain).substr(preamble_bytes));
  REQUIRE(p);
  CHECK_FALSE(p->sequenced);
  for (const char* bad : {"", "0", "2", "yes"}) {
    INFO("sequenced '" << bad << "'");
    auto r = parse_hello(hello_frame(le64(7) + str("n") + str("") + bytes_of({0x01, 0, 0, 0, 0, 0x01}) + str("sequenced") +
                                     str(bad)));
    REQUIRE_FALSE(r);
    CHECK(r.error() == errc::protocol);
  }

  // The two frames: kind, codec 0, flags 0, then u64 stream and u64 number, little-endian.
  for (frame_kind kind : {frame_kind::resume, frame_kind::received}) {
    std::string f;
    write_stream_frame(f, kind, {0x0102030405060708, 42});
    CHECK(f == bytes_of({20, 0, 0, 0, static_cast<unsigned>(kind), 0, 0, 0}) + le64(0x0102030405060708) + le64(42));
    auto parsed = parse_frame(f, 0, {});
    REQUIRE(parsed);
    CHECK(parsed->kind == kind);
    auto at = read_stream_position(parsed->payload);
    REQUIRE(at);
    CHECK(at->stream == 0x0102030405060708);
    CHECK(at->seq == 42);
  }
  // A body of another size, or stream 0, is malformed.
  CHECK(read_stream_position(le64(1)).error() == errc::bad_message);
  CHECK(read_stream_position(le64(1) + le64(2) + "x").error() == errc::bad_message);
  CHECK(read_stream_position(le64(0) + le64(2)).error() == errc::bad_message);
}
