// The address book (detail/address_book.hpp) and the binary codec's use of it: every pid of another node
// is interned when decoded and looked up when encoded, the repeated address answered from the thread's
// most recent entry. That shortcut must never change an answer: the same indexes, the same texts, and
// the same checks (UTF-8, length) as the long way.
#include <coactor/codec/binary.hpp>
#include <coactor/detail/address_book.hpp>
#include <coactor/pid.hpp>

#include "pid_bytes.hpp"

#include <catch2/catch.hpp>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

namespace address_book_test {

struct one_pid {
  coactor::pid p;
};

struct two_pids {
  coactor::pid a;
  coactor::pid b;
};

}  // namespace address_book_test

using namespace coactor;
using namespace address_book_test;
namespace book = coactor::detail::address_book;

using codec_test::pid_message;

TEST_CASE("address book: an address keeps its index, asked again or after others", "[codec][address_book]") {
  const std::uint32_t a = book::intern("book-test-a:1");
  const std::uint32_t b = book::intern("book-test-b:1");
  REQUIRE(a != 0);
  REQUIRE(b != 0);
  CHECK(a != b);
  CHECK(book::intern("book-test-a:1") == a);
  CHECK(book::intern("book-test-a:1") == a);
  CHECK(book::intern("book-test-b:1") == b);
  CHECK(book::lookup(a) == "book-test-a:1");
  CHECK(book::lookup(b) == "book-test-b:1");
  CHECK(book::lookup(a) == "book-test-a:1");
  // Same length, differing only in the last byte, or only in the first: a different address.
  const std::uint32_t c = book::intern("book-test-a:2");
  const std::uint32_t d = book::intern("Book-test-a:1");
  CHECK(c != a);
  CHECK(d != a);
  CHECK(book::intern("book-test-a:1") == a);
  // Short ones (under a word) too.
  const std::uint32_t s1 = book::intern("h:1");
  const std::uint32_t s2 = book::intern("h:2");
  CHECK(s1 != s2);
  CHECK(book::intern("h:1") == s1);
  CHECK(book::lookup(s2) == "h:2");
  // Nothing for nothing.
  CHECK(book::intern("") == 0);
  CHECK(book::lookup(0).empty());
  CHECK(book::lookup(book::capacity - 1).empty());
}

TEST_CASE("address book: many addresses in turn (more than the per-thread cache holds)", "[codec][address_book]") {
  std::vector<std::uint32_t> first;
  for (int i = 0; i < 100; ++i) first.push_back(book::intern("turn-" + std::to_string(i) + ":9000"));
  for (int round = 0; round < 3; ++round)
    for (int i = 99; i >= 0; --i) {
      CHECK(book::intern("turn-" + std::to_string(i) + ":9000") == first[static_cast<std::size_t>(i)]);
      CHECK(book::lookup(first[static_cast<std::size_t>(i)]) == "turn-" + std::to_string(i) + ":9000");
    }
}

TEST_CASE("address book: threads agree on every index", "[codec][address_book]") {
  constexpr int addresses = 200, threads = 4;
  std::vector<std::vector<std::uint32_t>> seen(threads, std::vector<std::uint32_t>(addresses));
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t)
    workers.emplace_back([t, &seen] {
      for (int round = 0; round < 5; ++round)
        for (int k = 0; k < addresses; ++k) {
          const int i = (t % 2 ? addresses - 1 - k : k);  // half of them from the other end
          const std::string address = "thread-" + std::to_string(i) + ":1";
          const std::uint32_t index = book::intern(address);
          if (round == 0) seen[static_cast<std::size_t>(t)][static_cast<std::size_t>(i)] = index;
          else if (seen[static_cast<std::size_t>(t)][static_cast<std::size_t>(i)] != index) std::abort();
          if (book::lookup(index) != address) std::abort();
        }
    });
  for (auto& w : workers) w.join();
  for (int i = 0; i < addresses; ++i) {
    const std::uint32_t index = book::intern("thread-" + std::to_string(i) + ":1");
    for (int t = 0; t < threads; ++t) CHECK(seen[static_cast<std::size_t>(t)][static_cast<std::size_t>(i)] == index);
  }
}

TEST_CASE("address book: it knows which addresses are UTF-8", "[codec][address_book]") {
  CHECK(book::find(book::intern("ünïcödé:7")).utf8);
  CHECK(book::find(book::intern("plain:7")).utf8);
  const std::uint32_t bad = book::intern("bad\xff:7");
  CHECK(!book::find(bad).utf8);
  CHECK(book::find(bad).address == "bad\xff:7");
  CHECK(book::find(0).address.empty());
}

TEST_CASE("binary: a pid decoded again and again gets the address's one index", "[codec][binary][address_book]") {
  const std::string m = pid_message("10.9.8.7:6000");
  std::uint32_t index = 0;
  for (int i = 0; i < 3; ++i) {
    one_pid v{};
    REQUIRE(binary::decode_into(m, v));
    CHECK(v.p == pid(7, 9, 2));
    CHECK(v.p.address() == "10.9.8.7:6000");
    if (i == 0) index = v.p.address_index();
    CHECK(v.p.address_index() == index);
  }
  CHECK(book::intern("10.9.8.7:6000") == index);
  // Two pids of different nodes in one message, each the other's "most recent" in turn.
  const pid x(0x71, 0x72, 1, book::intern("x.example:1"));
  const pid y(0x81, 0x82, 2, book::intern("y.example:1"));
  for (int i = 0; i < 3; ++i) {
    std::string out;
    REQUIRE(binary::encode(two_pids{x, y}, out));
    auto back = binary::decode<two_pids>(out);
    REQUIRE(back);
    CHECK(back->a.address() == "x.example:1");
    CHECK(back->b.address() == "y.example:1");
    CHECK(back->a.address_index() == x.address_index());
    CHECK(back->b.address_index() == y.address_index());
  }
}

TEST_CASE("binary: an address the book holds is still checked, however recently it was seen",
          "[codec][binary][address_book][hostile]") {
  // Not UTF-8: interned directly (the book takes any bytes), so it is this thread's most recent entry.
  const std::uint32_t bad = book::intern("\xfe\xff:1");
  for (int i = 0; i < 2; ++i) {
    CHECK(book::intern("\xfe\xff:1") == bad);
    one_pid v{};
    auto r = binary::decode_into(pid_message("\xfe\xff:1"), v);
    REQUIRE(!r);
    CHECK(r.error() == errc::bad_message);
    CHECK(r.error().detail() == "address_book_test::one_pid.p: invalid UTF-8 at byte 0 of a string");

    // Encoding a pid that carries it fails the same way, and leaves the output alone.
    std::string out = "kept";
    auto e = binary::encode(one_pid{pid(5, 6, 7, bad)}, out);
    REQUIRE(!e);
    CHECK(e.error() == errc::bad_message);
    CHECK(e.error().detail() == "address_book_test::one_pid.p: invalid UTF-8 at byte 0 of a string");
    CHECK(out == "kept");
  }

  // Longer than a pid address may be: refused even when it is the address seen last.
  std::string long_address(300, 'l');
  REQUIRE(book::intern(long_address) != 0);
  std::string m = "\x01" + std::string("\x07\0\0\0\0\0\0\0", 8) + std::string("\x09\0\0\0\0\0\0\0", 8) + "\x02";
  m += "\xac\x02";  // varint 300
  m += long_address;
  one_pid v{};
  auto r = binary::decode_into(m, v);
  REQUIRE(!r);
  CHECK(r.error().detail() == "address_book_test::one_pid.p: pid address longer than 255 bytes");
}
