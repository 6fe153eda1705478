// message (message.hpp) as the codecs see it: its type name, is<T>, as<T>, and to_json() for local typed
// messages and for opaque ones (a message from another node whose type this node does not know).
#include <coactor/address_book.hpp>
#include <coactor/detail/envelope.hpp>
#include <coactor/message.hpp>

#include <catch2/catch.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace message_test {

struct point {
  std::int32_t x;
  std::int32_t y;
};

struct order {
  std::uint32_t id;
  std::vector<point> path;
  std::optional<std::string> note;
  coactor::pid owner;
};

struct named {
  static constexpr std::string_view coactor_name = "message_test.named";
  bool ok;
};

struct not_wire {  // std::set has no wire form
  std::set<int> values;
};

}  // namespace message_test

using namespace coactor;
using namespace message_test;

namespace {

template <class T>
message make(T value) {
  return message(detail::make_envelope<detail::payload_t<T>>(std::move(value)));
}

/// An opaque message, made the way the router keeps a message it cannot decode (src/router.cpp).
message make_opaque(codec format, std::string type, std::string bytes) {
  return message(detail::make_opaque_envelope(detail::opaque_payload{format, std::move(type), std::move(bytes)}));
}

}  // namespace

TEST_CASE("message: type name, is, as", "[message]") {
  message m = make(point{3, -4});
  REQUIRE(m);
  CHECK(m.type_name() == "message_test::point");
  CHECK(m.is<point>());
  CHECK(!m.is<order>());
  CHECK(!m.is<std::string>());
  CHECK(!m.is_opaque());
  CHECK(m.as<point>().x == 3);
  CHECK(m.get_if<order>() == nullptr);
  try {
    static_cast<void>(m.as<std::int32_t>());
    FAIL("as<i32>() of a point did not throw");
  } catch (const bad_access& e) {
    CHECK(std::string(e.what()) == "coactor::message::as<i32>() on a message of type message_test::point");
  }
  CHECK(make(named{true}).type_name() == "message_test.named");
  CHECK(make("text").type_name() == "string");  // C strings travel as std::string
  CHECK(make("text").is<std::string>());
  CHECK(make("text").is<const char*>());

  message empty;
  CHECK(!empty);
  CHECK(empty.type_name().empty());
  CHECK(!empty.is<point>());
  CHECK(!empty.is_opaque());
}

TEST_CASE("message: to_json of local messages", "[message][json]") {
  const pid owner(0x1f, 0x2e, 3, address_book::process().intern("10.0.0.9:7"));
  message m = make(order{12, {{1, 2}, {-3, 4}}, std::nullopt, owner});
  auto text = m.to_json();
  REQUIRE(text);
  CHECK(*text == R"({"id":12,"path":[{"x":1,"y":2},{"x":-3,"y":4}],"note":null,"owner":"coactor://10.0.0.9:7/pid/1f.3.2e"})");
  auto indented = m.to_json(2);
  REQUIRE(indented);
  CHECK(*indented ==
        "{\n"
        "  \"id\": 12,\n"
        "  \"path\": [\n"
        "    {\n"
        "      \"x\": 1,\n"
        "      \"y\": 2\n"
        "    },\n"
        "    {\n"
        "      \"x\": -3,\n"
        "      \"y\": 4\n"
        "    }\n"
        "  ],\n"
        "  \"note\": null,\n"
        "  \"owner\": \"coactor://10.0.0.9:7/pid/1f.3.2e\"\n"
        "}");
  CHECK(*make(std::string("a\"b")).to_json() == R"("a\"b")");
  CHECK(*make(std::int64_t{-5}).to_json() == "-5");
  CHECK(*make(named{false}).to_json() == R"({"ok":false})");
  CHECK(*make(std::vector<bool>{}).to_json(4) == "[]");
}

TEST_CASE("message: to_json failures", "[message][json]") {
  auto r = make(not_wire{{1, 2}}).to_json();
  REQUIRE(!r);
  CHECK(r.error() == errc::not_serializable);
  CHECK(r.error().detail() == "message_test::not_wire");

  auto bad_text = make(std::string("\xff")).to_json();
  REQUIRE(!bad_text);
  CHECK(bad_text.error() == errc::bad_message);
  CHECK_THAT(bad_text.error().detail(), Catch::Contains("invalid UTF-8"));

  auto empty = message().to_json();
  REQUIRE(!empty);
  CHECK(empty.error() == errc::bad_message);
}

TEST_CASE("message: opaque messages", "[message][json]") {
  message j = make_opaque(codec::json, "remote::thing", R"({"a":[1,2],"b":"x"})");
  CHECK(j.is_opaque());
  CHECK(j.type_name() == "remote::thing");
  CHECK(!j.is<detail::opaque_payload>());
  CHECK(!j.is<std::string>());
  CHECK(*j.to_json() == R"({"a":[1,2],"b":"x"})");
  CHECK(*j.to_json(1) == "{\n \"a\": [\n  1,\n  2\n ],\n \"b\": \"x\"\n}");

  message b = make_opaque(codec::binary, "remote::thing", "\x01\x02");
  CHECK(b.is_opaque());
  CHECK(b.type_name() == "remote::thing");
  auto r = b.to_json();
  REQUIRE(!r);
  CHECK(r.error() == errc::unknown_type);
  CHECK(r.error().detail() == "'remote::thing' came in the binary codec and is unknown here");

  // Bytes that claim to be JSON but are not: reported, not printed.
  auto bad = make_opaque(codec::json, "remote::thing", "{\"a\":").to_json();
  REQUIRE(!bad);
  CHECK(bad.error() == errc::bad_message);
}
