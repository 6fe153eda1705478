// The address book (address_book.hpp) and the codecs' use of it: every pid of another node is interned
// when decoded and looked up when encoded, the repeated address answered from the thread's most recent
// entry. That shortcut must never change an answer: the same indexes, the same texts, and the same
// checks (UTF-8, length) as the long way. Books have lifetimes and limits of their own, so every test
// here makes the book it needs; a full book is one with small limits.
#include <coactor/address_book.hpp>
#include <coactor/codec/binary.hpp>
#include <coactor/codec/json.hpp>
#include <coactor/coactor.hpp>
#include <coactor/pid.hpp>
#include <coactor/transports/loopback.hpp>

#include "pid_bytes.hpp"

#include <catch2/catch.hpp>

#include <cstdint>
#include <cstdlib>
#include <memory>
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
using namespace std::chrono_literals;

using codec_test::pid_message;

TEST_CASE("address book: an address keeps its index, asked again or after others", "[codec][address_book]") {
  address_book book;
  const std::uint32_t a = book.intern("book-test-a:1");
  const std::uint32_t b = book.intern("book-test-b:1");
  REQUIRE(a != 0);
  REQUIRE(b != 0);
  CHECK(a != b);
  CHECK(book.intern("book-test-a:1") == a);
  CHECK(book.intern("book-test-a:1") == a);
  CHECK(book.intern("book-test-b:1") == b);
  CHECK(address_book::lookup(a) == "book-test-a:1");
  CHECK(address_book::lookup(b) == "book-test-b:1");
  CHECK(address_book::lookup(a) == "book-test-a:1");
  // Same length, differing only in the last byte, or only in the first: a different address.
  const std::uint32_t c = book.intern("book-test-a:2");
  const std::uint32_t d = book.intern("Book-test-a:1");
  CHECK(c != a);
  CHECK(d != a);
  CHECK(book.intern("book-test-a:1") == a);
  // Short ones (under a word) too.
  const std::uint32_t s1 = book.intern("h:1");
  const std::uint32_t s2 = book.intern("h:2");
  CHECK(s1 != s2);
  CHECK(book.intern("h:1") == s1);
  CHECK(address_book::lookup(s2) == "h:2");
  CHECK(book.size() == 6);
  // Nothing for nothing.
  CHECK(book.intern("") == 0);
  CHECK(address_book::lookup(0).empty());
  CHECK(address_book::lookup((book.number() << address_book::entry_bits) | 1000).empty());  // never handed out
  // Every index says its book.
  for (std::uint32_t i : {a, b, c, d, s1, s2}) CHECK((i >> address_book::entry_bits) == book.number());
}

TEST_CASE("address book: many addresses in turn (more than the per-thread cache holds)", "[codec][address_book]") {
  address_book book;
  std::vector<std::uint32_t> first;
  for (int i = 0; i < 100; ++i) first.push_back(book.intern("turn-" + std::to_string(i) + ":9000"));
  for (int round = 0; round < 3; ++round)
    for (int i = 99; i >= 0; --i) {
      CHECK(book.intern("turn-" + std::to_string(i) + ":9000") == first[static_cast<std::size_t>(i)]);
      CHECK(address_book::lookup(first[static_cast<std::size_t>(i)]) == "turn-" + std::to_string(i) + ":9000");
    }
}

TEST_CASE("address book: threads agree on every index", "[codec][address_book]") {
  constexpr int addresses = 200, threads = 4;
  address_book book;
  std::vector<std::vector<std::uint32_t>> seen(threads, std::vector<std::uint32_t>(addresses));
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t)
    workers.emplace_back([t, &seen, &book] {
      for (int round = 0; round < 5; ++round)
        for (int k = 0; k < addresses; ++k) {
          const int i = (t % 2 ? addresses - 1 - k : k);  // half of them from the other end
          const std::string address = "thread-" + std::to_string(i) + ":1";
          const std::uint32_t index = book.intern(address);
          if (round == 0) seen[static_cast<std::size_t>(t)][static_cast<std::size_t>(i)] = index;
          else if (seen[static_cast<std::size_t>(t)][static_cast<std::size_t>(i)] != index) std::abort();
          if (address_book::lookup(index) != address) std::abort();
        }
    });
  for (auto& w : workers) w.join();
  for (int i = 0; i < addresses; ++i) {
    const std::uint32_t index = book.intern("thread-" + std::to_string(i) + ":1");
    for (int t = 0; t < threads; ++t) CHECK(seen[static_cast<std::size_t>(t)][static_cast<std::size_t>(i)] == index);
  }
  CHECK(book.size() == addresses);
}

TEST_CASE("address book: it knows which addresses are UTF-8", "[codec][address_book]") {
  address_book book;
  CHECK(address_book::find(book.intern("ünïcödé:7")).utf8);
  CHECK(address_book::find(book.intern("plain:7")).utf8);
  const std::uint32_t bad = book.intern("bad\xff:7");
  CHECK(!address_book::find(bad).utf8);
  CHECK(address_book::find(bad).address == "bad\xff:7");
  CHECK(address_book::find(0).address.empty());
}

TEST_CASE("address book: books are apart, and a destroyed one's pids lose their address", "[codec][address_book]") {
  auto first = std::make_unique<address_book>();
  address_book second;
  CHECK(first->number() != second.number());
  const std::uint32_t in_first = first->intern("apart:1");
  const std::uint32_t in_second = second.intern("apart:1");
  CHECK(in_first != in_second);
  CHECK(address_book::lookup(in_first) == "apart:1");
  CHECK(address_book::lookup(in_second) == "apart:1");
  const pid p(0x11, 0x22, 3, in_first);
  CHECK(p.address() == "apart:1");  // now this thread's most recent entry points into the first book
  CHECK(first->recent_utf8("apart:1") == in_first);
  CHECK(second.recent_utf8("apart:1") == 0);  // recent, but in another book
  first.reset();
  CHECK(p.address().empty());
  CHECK(address_book::find(in_first).address.empty());
  CHECK(second.recent_utf8("apart:1") == 0);
  CHECK(second.intern("apart:1") == in_second);
  // A book made after it gets a number of its own, never the destroyed one's.
  address_book third;
  CHECK(third.number() != (in_first >> address_book::entry_bits));
  CHECK(address_book::find(in_first).address.empty());
}

TEST_CASE("address book: limits are checked when a book is made", "[codec][address_book]") {
  CHECK_THROWS_AS(address_book(address_book::limits{.max_addresses = 1u << 20}), std::invalid_argument);
  address_book largest(address_book::limits{.max_addresses = (1u << 20) - 1});
  CHECK(largest.size() == 0);
}

namespace {

std::string address_number(std::size_t i, std::size_t length) {
  std::string a = "h" + std::to_string(i) + ":1";
  a.insert(1, length > a.size() ? length - a.size() : 0, 'x');
  return a;
}

}  // namespace

// A peer that sends pids of ever new node addresses cannot make a node spend without bound: when its
// book is full, a new address is refused (decoding the pid fails with errc::too_large, in either codec)
// while the addresses already in the book keep working.
TEST_CASE("address book: a full book refuses new addresses and keeps the old ones", "[codec][address_book][hostile]") {
  struct way {
    const char* name;
    address_book::limits bounds;
    std::size_t length;  // of each address
    std::size_t fits;    // addresses that fit
  };
  const way ways[] = {{"by count", {.max_addresses = 50}, 8, 50},
                      {"by text", {.max_addresses = 1000, .max_text_bytes = 255 * 10 + 100}, 255, 10}};
  for (const way& w : ways) {
    SECTION(w.name) {
      address_book book(w.bounds);
      std::uint32_t first = 0, last = 0;
      for (std::size_t i = 0; i < w.fits; ++i) {
        last = book.intern(address_number(i, w.length));
        REQUIRE(last != 0);
        if (!first) first = last;
      }
      CHECK(book.size() == w.fits);
      CHECK(book.intern(address_number(w.fits, w.length)) == 0);
      CHECK(book.intern(address_number(w.fits + 1, w.length)) == 0);
      // Refused through the codecs too: a clear error, not a crash or a pid with no address.
      wire_context context;
      context.addresses = &book;
      auto refused = binary::decode<one_pid>(pid_message(address_number(w.fits + 2, w.length)), {}, context);
      REQUIRE_FALSE(refused);
      CHECK(refused.error() == errc::too_large);
      CHECK(refused.error().detail().find("too many distinct node addresses") != std::string::npos);
      const std::string text = "{\"p\":\"coactor://" + address_number(w.fits + 3, w.length) + "/pid/7.2.9\"}";
      auto refused_json = json::decode<one_pid>(text, {}, context);
      REQUIRE_FALSE(refused_json);
      CHECK(refused_json.error() == errc::too_large);
      CHECK(pid::parse("coactor://" + address_number(w.fits + 4, w.length) + "/pid/7.2.9", book).error() ==
            errc::too_large);
      CHECK(book.size() == w.fits);
      // What is in the book still works, and other books are not full.
      CHECK(book.intern(address_number(0, w.length)) == first);
      CHECK(address_book::lookup(last) == address_number(w.fits - 1, w.length));
      auto known = binary::decode<one_pid>(pid_message(address_number(1, w.length)), {}, context);
      REQUIRE(known);
      CHECK(known->p.address() == address_number(1, w.length));
      CHECK((known->p.address_index() >> address_book::entry_bits) == book.number());
      auto elsewhere = binary::decode<one_pid>(pid_message(address_number(w.fits + 2, w.length)));
      REQUIRE(elsewhere);
      CHECK((elsewhere->p.address_index() >> address_book::entry_bits) == address_book::process_number);
    }
  }
}

// A node given a book of its own enters the addresses its peers' pids carry there; when it is full, a
// message with a pid of yet another node is refused and reported, and the node goes on serving.
TEST_CASE("address book: a node's own book", "[codec][address_book][node]") {
  auto network = std::make_shared<loopback_network>();
  // b's own address, then a's: room for nothing else
  auto book = std::make_shared<address_book>(address_book::limits{.max_addresses = 2});
  thread_pool pool(1);
  node a(pool, {.name = "a", .transport = std::make_unique<loopback_transport>(network)});
  node b(pool, {.name = "b", .transport = std::make_unique<loopback_transport>(network), .addresses = book});
  node c(pool, {.name = "c", .transport = std::make_unique<loopback_transport>(network)});
  REQUIRE(a.listen("a:1"));
  REQUIRE(b.listen("b:1"));
  REQUIRE(c.listen("c:1"));
  std::vector<std::string> errors;
  b.on_error([&](const error& what, const pid&) { errors.push_back(what.message()); });
  std::vector<pid> got;
  const pid collector = b.spawn([&](context self) -> process {
    for (;;) {
      auto m = co_await self.receive<one_pid>(1s);
      if (!m) co_return;
      got.push_back((*m)->p);
    }
  });
  for (node* from : {&a, &c, &a})
    from->spawn([collector](context self) -> process {
      self.send(collector, one_pid{self.pid()});
      co_return;
    });
  pool.run();
  REQUIRE(got.size() == 2);  // a's two; c's refused
  for (const pid& p : got) {
    CHECK(p.address() == "a:1");
    CHECK((p.address_index() >> address_book::entry_bits) == book->number());
  }
  CHECK(book->size() == 2);
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].find("too many distinct node addresses") != std::string::npos);
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
  CHECK(address_book::process().intern("10.9.8.7:6000") == index);
  // Two pids of different nodes in one message, each the other's "most recent" in turn.
  const pid x(0x71, 0x72, 1, address_book::process().intern("x.example:1"));
  const pid y(0x81, 0x82, 2, address_book::process().intern("y.example:1"));
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
  const std::uint32_t bad = address_book::process().intern("\xfe\xff:1");
  for (int i = 0; i < 2; ++i) {
    CHECK(address_book::process().intern("\xfe\xff:1") == bad);
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
  REQUIRE(address_book::process().intern(long_address) != 0);
  std::string m = "\x01" + std::string("\x07\0\0\0\0\0\0\0", 8) + std::string("\x09\0\0\0\0\0\0\0", 8) + "\x02";
  m += "\xac\x02";  // varint 300
  m += long_address;
  one_pid v{};
  auto r = binary::decode_into(m, v);
  REQUIRE(!r);
  CHECK(r.error().detail() == "address_book_test::one_pid.p: pid address longer than 255 bytes");
}
