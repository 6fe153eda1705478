// The string forms of pid and process_name (pid.hpp, process_name.hpp): writing, parsing back, refusing
// what is not one.
#include <coactor/address_book.hpp>
#include <coactor/pid.hpp>
#include <coactor/process_name.hpp>

#include <catch2/catch.hpp>

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

using namespace coactor;

namespace {

pid parsed(std::string_view text) {
  auto r = pid::parse(text);
  if (!r) FAIL(r.error().message());
  return *r;
}

void refused(std::string_view text, std::string_view why) {
  INFO(text);
  auto r = pid::parse(text);
  REQUIRE(!r);
  CHECK(r.error() == errc::bad_message);
  CHECK(r.error().detail() == "not a pid (" + std::string(why) + "): " + std::string(text));
}

}  // namespace

TEST_CASE("pid: the string form", "[pid]") {
  // The example of pid.hpp.
  const pid p(0x9f2c41d07a33e001ull, 0x5be0c2d1948f7a16ull, 0x2a, address_book::process().intern("127.0.0.1:9000"));
  CHECK(p.to_string() == "coactor://127.0.0.1:9000/pid/9f2c41d07a33e001.2a.5be0c2d1948f7a16");
  // With another address (what a node uses for its own pids), and without one.
  CHECK(p.to_string("10.0.0.1:1") == "coactor://10.0.0.1:1/pid/9f2c41d07a33e001.2a.5be0c2d1948f7a16");
  CHECK(pid(1, 2, 0).to_string() == "coactor:///pid/1.0.2");
  CHECK(pid(0xffffffffffffffffull, 0xffffffffffffffffull, 0xffffffffu).to_string() ==
        "coactor:///pid/ffffffffffffffff.ffffffff.ffffffffffffffff");
  CHECK(pid{}.to_string() == "coactor://null");
  CHECK(pid{}.to_string("somewhere:1") == "coactor://null");
  // ...and reads back as the null pid.
  auto null = pid::parse("coactor://null");
  REQUIRE(null);
  CHECK(null->is_null());
}

TEST_CASE("pid: parse reads back what to_string wrote", "[pid]") {
  const pid samples[] = {
      pid(0x9f2c41d07a33e001ull, 0x5be0c2d1948f7a16ull, 0x2a, address_book::process().intern("127.0.0.1:9000")),
      pid(1, 1, 0),
      pid(0xffffffffffffffffull, 0xffffffffffffffffull, 0xffffffffu, address_book::process().intern("[::1]:9000")),
      pid(0x10, 0x20, 7, address_book::process().intern("host.example:1/with/slashes/pid/x")),
      pid(0x10, 0x21, 7, address_book::process().intern("ünïcödé:1")),
  };
  for (const pid& p : samples) {
    INFO(p.to_string());
    const pid back = parsed(p.to_string());
    CHECK(back == p);
    CHECK(back.incarnation() == p.incarnation());
    CHECK(back.id() == p.id());
    CHECK(back.slot() == p.slot());
    CHECK(back.address() == p.address());
    CHECK(back.to_string() == p.to_string());
    CHECK(std::hash<pid>{}(back) == std::hash<pid>{}(p));
  }
  // Upper-case hexadecimal and leading zeros are read too.
  const pid upper = parsed("coactor://h:1/pid/00000000000000AB.0C.DEF");
  CHECK(upper.incarnation() == 0xab);
  CHECK(upper.slot() == 0x0c);
  CHECK(upper.id() == 0xdef);
  CHECK(upper.address() == "h:1");
  // The address is not part of a pid's identity.
  CHECK(parsed("coactor://a:1/pid/1.2.3") == parsed("coactor://b:2/pid/1.2.3"));
  CHECK(!(parsed("coactor://a:1/pid/1.2.3") == parsed("coactor://a:1/pid/1.2.4")));
  CHECK(!(parsed("coactor://a:1/pid/1.2.3") == parsed("coactor://a:1/pid/1.3.3")));
  CHECK(!(parsed("coactor://a:1/pid/1.2.3") == parsed("coactor://a:1/pid/2.2.3")));
  // No address: a pid without one.
  CHECK(parsed("coactor:///pid/1.2.3").address_index() == 0);
}

TEST_CASE("pid: parse refuses what is not a pid", "[pid]") {
  refused("", "no coactor:// scheme");
  refused("http://h/pid/1.2.3", "no coactor:// scheme");
  refused("Coactor://h/pid/1.2.3", "no coactor:// scheme");
  refused("coactor:/h/pid/1.2.3", "no coactor:// scheme");
  refused("coactor://h/name/logger", "no /pid/");
  refused("coactor://h/pid1.2.3", "no /pid/");
  const std::string_view numbers = "expected <incarnation>.<slot>.<id> in hexadecimal";
  refused("coactor://h/pid/", numbers);
  refused("coactor://h/pid/1.2", numbers);
  refused("coactor://h/pid/1.2.3.4", numbers);
  refused("coactor://h/pid/1..3", numbers);
  refused("coactor://h/pid/.2.3", numbers);
  refused("coactor://h/pid/1.2.", numbers);
  refused("coactor://h/pid/g.2.3", numbers);
  refused("coactor://h/pid/1.2.3 ", numbers);
  refused("coactor://h/pid/ 1.2.3", numbers);
  refused("coactor://h/pid/-1.2.3", numbers);
  refused("coactor://h/pid/+1.2.3", numbers);
  refused("coactor://h/pid/0x1.2.3", numbers);
  refused("coactor://h/pid/10000000000000000.2.3", numbers);  // 17 digits
  refused("coactor://h/pid/1.2.10000000000000000", numbers);
  const std::string_view zero = "zero incarnation or id, or slot out of range";
  refused("coactor://h/pid/0.2.3", zero);
  refused("coactor://h/pid/1.2.0", zero);
  refused("coactor://h/pid/1.100000000.3", zero);  // slot beyond 32 bits
  CHECK(parsed("coactor://h/pid/1.ffffffff.3").slot() == 0xffffffffu);
}

TEST_CASE("process_name: string form and parse", "[pid][process_name]") {
  const process_name logger{"127.0.0.1:9000", "logger"};
  CHECK(logger.to_string() == "coactor://127.0.0.1:9000/name/logger");
  auto back = process_name::parse(logger.to_string());
  REQUIRE(back);
  CHECK(*back == logger);

  // An empty node: this node.
  const process_name local{"", "db"};
  CHECK(local.to_string() == "coactor:///name/db");
  CHECK(*process_name::parse("coactor:///name/db") == local);

  // The first "/name/" separates: the name may contain more.
  auto nested = process_name::parse("coactor://h:1/name/a/name/b");
  REQUIRE(nested);
  CHECK(nested->address == "h:1");
  CHECK(nested->name == "a/name/b");
  CHECK(process_name::parse(nested->to_string())->name == "a/name/b");
  CHECK(*process_name::parse("coactor://h:1/name/ünï") == process_name{"h:1", "ünï"});

  auto refused = [](std::string_view text, std::string_view why) {
    INFO(text);
    auto r = process_name::parse(text);
    REQUIRE(!r);
    CHECK(r.error() == errc::bad_message);
    CHECK(r.error().detail() == "not a process name (" + std::string(why) + "): " + std::string(text));
  };
  refused("", "no coactor:// scheme");
  refused("logger", "no coactor:// scheme");
  refused("http://h:1/name/logger", "no coactor:// scheme");
  refused("coactor://h:1/pid/1.2.3", "no /name/<name>");
  refused("coactor://h:1/name/", "no /name/<name>");
  refused("coactor://h:1/names/x", "no /name/<name>");
  refused("coactor://", "no /name/<name>");
}
