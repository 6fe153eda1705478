// node_address: what listen() returns, read and written in the text form the transports use.
#include <coactor/node_address.hpp>
#include <coactor/process_name.hpp>

#include <catch2/catch.hpp>

#include <sstream>

using namespace coactor;

TEST_CASE("node_address: host and port, IPv6 in brackets, plain names", "[node_address]") {
  auto a = node_address::parse("127.0.0.1:9000");
  REQUIRE(a);
  CHECK(a->host == "127.0.0.1");
  CHECK(a->port == 9000);
  CHECK(a->to_string() == "127.0.0.1:9000");

  auto v6 = node_address::parse("[::1]:65535");
  REQUIRE(v6);
  CHECK(v6->host == "::1");
  CHECK(v6->port == 65535);
  CHECK(v6->to_string() == "[::1]:65535");
  CHECK(node_address{"::1", 0}.to_string() == "[::1]:0");  // an IPv6 host always has its port, to stay readable

  auto name = node_address::parse("alpha");  // the simulator's addresses are names
  REQUIRE(name);
  CHECK(*name == node_address{"alpha", 0});
  CHECK(name->to_string() == "alpha");

  for (const char* text : {"localhost:1", "server:0", "[fe80::1]:80", "b"}) {
    INFO(text);
    auto parsed = node_address::parse(text);
    REQUIRE(parsed);
    CHECK(node_address::parse(parsed->to_string()).value() == *parsed);  // the text form reads back the same
  }

  std::ostringstream printed;
  printed << *a;
  CHECK(printed.str() == "127.0.0.1:9000");

  // A process_name is made from one directly.
  CHECK(process_name(*a, "logger").to_string() == "coactor://127.0.0.1:9000/name/logger");
}

TEST_CASE("node_address: malformed text is errc::bad_message, saying why", "[node_address]") {
  const std::pair<const char*, const char*> cases[] = {
      {"", "empty host"},        {":80", "empty host"},       {"host:", "empty port"},
      {"host:65536", "bad port"}, {"host:8x", "bad port"},      {"host:-1", "bad port"},
      {"::1:80", "brackets"},     {"[::1]80", "no ':port'"},   {"[::1", "no closing"},
      {"[]:80", "empty host"},    {"[::1]:", "empty port"},
  };
  for (const auto& [text, why] : cases) {
    INFO(text);
    auto r = node_address::parse(text);
    REQUIRE_FALSE(r);
    CHECK(r.error() == errc::bad_message);
    CHECK(r.error().detail().find(why) != std::string::npos);
  }
}
