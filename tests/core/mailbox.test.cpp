#include <coactor/detail/mailbox.hpp>
#include <coactor/detail/siphash.hpp>
#include <coactor/message.hpp>

#include <catch2/catch.hpp>

#include <string>
#include <string_view>
#include <thread>
#include <vector>

using namespace coactor;
using detail::envelope;
using detail::mailbox;

namespace {
envelope* make(int v) { return detail::make_envelope<int>(v); }
int value(envelope* e) { return *static_cast<int*>(e->payload()); }
}  // namespace

TEST_CASE("mailbox keeps arrival order across fetches", "[mailbox]") {
  const bool concurrent = GENERATE(true, false);
  CAPTURE(concurrent);
  mailbox box;
  for (int i = 0; i < 3; ++i) REQUIRE(box.push(make(i), concurrent) == mailbox::push_result::queued);
  REQUIRE(value(box.fetch(concurrent)) == 0);
  for (int i = 3; i < 5; ++i) box.push(make(i), concurrent);
  box.fetch(concurrent);
  std::vector<int> seen;
  for (envelope* e = box.front(); e; e = e->next) seen.push_back(value(e));
  CHECK(seen == std::vector<int>{0, 1, 2, 3, 4});
  for (envelope* e = box.close(); e;) detail::destroy(std::exchange(e, e->next));
}

TEST_CASE("mailbox blocked owner is woken by exactly the first push", "[mailbox]") {
  const bool concurrent = GENERATE(true, false);
  CAPTURE(concurrent);
  mailbox box;
  REQUIRE(box.try_block(concurrent));
  CHECK(box.push(make(1), concurrent) == mailbox::push_result::woke_owner);
  CHECK(box.push(make(2), concurrent) == mailbox::push_result::queued);
  CHECK_FALSE(box.try_block(concurrent));  // mail is waiting
  box.fetch(concurrent);
  CHECK(box.try_block(concurrent));
  envelope* rest = box.close();
  int n = 0;
  for (envelope* e = rest; e;) {
    ++n;
    detail::destroy(std::exchange(e, e->next));
  }
  CHECK(n == 2);
  envelope* late = make(3);
  CHECK(box.push(late, concurrent) == mailbox::push_result::closed);
  detail::destroy(late);
}

TEST_CASE("mailbox unlink from middle, front and back", "[mailbox]") {
  const bool concurrent = GENERATE(true, false);
  CAPTURE(concurrent);
  mailbox box;
  for (int i = 0; i < 4; ++i) box.push(make(i), concurrent);
  box.fetch(concurrent);
  envelope* e0 = box.front();
  envelope* e1 = e0->next;
  envelope* e3 = e1->next->next;
  box.unlink(e0, e1);
  detail::destroy(e1);
  box.unlink(nullptr, e0);
  detail::destroy(e0);
  box.unlink(box.front(), e3);  // the back
  detail::destroy(e3);
  REQUIRE(box.front());
  CHECK(value(box.front()) == 2);
  CHECK(box.front()->next == nullptr);
  box.push(make(9), concurrent);
  box.fetch(concurrent);
  CHECK(value(box.front()->next) == 9);
  for (envelope* e = box.close(); e;) detail::destroy(std::exchange(e, e->next));
}

TEST_CASE("mailbox concurrent producers keep per-producer order", "[mailbox][threads]") {
  const bool concurrent = true;
  mailbox box;
  constexpr int producers = 4, per = 20000;
  std::vector<std::thread> threads;
  for (int p = 0; p < producers; ++p)
    threads.emplace_back([&, p] {
      for (int i = 0; i < per; ++i) box.push(make(p * per + i), concurrent);
    });
  std::vector<int> last(producers, -1);
  int received = 0;
  while (received < producers * per) {
    box.fetch(concurrent);
    while (envelope* e = box.front()) {
      box.unlink(nullptr, e);
      int v = value(e);
      int p = v / per;
      REQUIRE(v % per > last[p]);
      last[p] = v % per;
      ++received;
      detail::destroy(e);
    }
  }
  for (auto& t : threads) t.join();
  CHECK(received == producers * per);
}

TEST_CASE("siphash-2-4 matches the reference vector", "[pid]") {
  // Key 00 01 .. 0f, message 00 01 .. 07: the 8-byte vector of the SipHash paper's reference code.
  detail::siphash_key key{0x0706050403020100ull, 0x0f0e0d0c0b0a0908ull};
  CHECK(detail::siphash24(key, 0x0706050403020100ull) == 0x93f5f5799a932462ull);
  // Of byte strings: the empty one, the same 8 bytes, and the paper's 15-byte example (a tail block).
  const std::string bytes("\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e", 15);
  CHECK(detail::siphash24(key, std::string_view()) == 0x726fdb47dd0e0e31ull);
  CHECK(detail::siphash24(key, std::string_view(bytes.data(), 8)) == 0x93f5f5799a932462ull);
  CHECK(detail::siphash24(key, std::string_view(bytes.data(), 15)) == 0xa129ca6149be45e5ull);
}
