// A full address book: a peer that sends pids of ever new node addresses cannot make a node spend
// without bound. The book is process-wide and never shrinks, so each way of filling it runs in a
// process of its own (tests/CMakeLists.txt builds this file twice): COACTOR_FILL_BY_TEXT fills it with
// long addresses until their text reaches max_text_bytes, otherwise short ones fill all `capacity`
// indexes. Either way a new address is then refused (the pid's decoding fails with errc::too_large),
// while the addresses already in the book keep working.
#include <coactor/codec/binary.hpp>
#include <coactor/detail/address_book.hpp>
#include <coactor/pid.hpp>

#include "pid_bytes.hpp"

#include <catch2/catch.hpp>

#include <cstdint>
#include <string>

namespace address_book_full_test {
struct one_pid {
  coactor::pid p;
};
}  // namespace address_book_full_test

using namespace coactor;
namespace book = coactor::detail::address_book;
using codec_test::pid_message;

namespace {

std::string address_number(std::size_t i, std::size_t length) {
  std::string a = "h" + std::to_string(i) + ":1";
  a.insert(1, length > a.size() ? length - a.size() : 0, 'x');
  return a;
}

}  // namespace

TEST_CASE("address book: a full book refuses new addresses and keeps the old ones", "[codec][address_book]") {
#ifdef COACTOR_FILL_BY_TEXT
  constexpr std::size_t length = 255;  // the longest address a pid may carry
#else
  constexpr std::size_t length = 8;
#endif
  std::size_t entered = 0;
  std::uint32_t first = 0, last = 0;
  for (;; ++entered) {
    const std::uint32_t index = book::intern(address_number(entered, length));
    if (index == 0) break;
    if (!first) first = index;
    last = index;
    REQUIRE(entered < book::capacity);
  }
  INFO(entered << " addresses of " << length << " bytes entered");
#ifdef COACTOR_FILL_BY_TEXT
  CHECK(entered * length <= book::max_text_bytes);
  CHECK((entered + 1) * length > book::max_text_bytes);
#else
  CHECK(entered == book::capacity - 1);  // index 0 means none
  CHECK(entered * length <= book::max_text_bytes);
#endif
  // Refused again, and through the codec: a clear error, not a crash or a pid with no address.
  CHECK(book::intern(address_number(entered + 1, length)) == 0);
  auto refused = binary::decode<address_book_full_test::one_pid>(pid_message(address_number(entered + 2, length)));
  REQUIRE_FALSE(refused);
  CHECK(refused.error() == errc::too_large);
  CHECK(refused.error().detail().find("too many distinct node addresses") != std::string::npos);
  // What is in the book still works.
  CHECK(book::intern(address_number(0, length)) == first);
  CHECK(book::lookup(last) == address_number(entered - 1, length));
  auto known = binary::decode<address_book_full_test::one_pid>(pid_message(address_number(1, length)));
  REQUIRE(known);
  CHECK(known->p.address() == address_number(1, length));
}
