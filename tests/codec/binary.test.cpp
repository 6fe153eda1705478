// The binary codec (include/coactor/codec/binary.hpp): the bytes it writes, round trips of every supported
// type at its edges, and hostile input.
//
// Every expected byte string here was worked out by hand from the format described at the top of
// binary.hpp (LEB128 varints, zigzag for signed integers, little-endian floats and pid numbers).
#include <coactor/codec/binary.hpp>
#include <coactor/address_book.hpp>

#include <catch2/catch.hpp>

#include <array>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <variant>
#include <vector>

// Message types live at namespace scope (see reflect.hpp), in a namespace of their own: other test files
// of this executable declare structs too, and the wire-name registry is process-wide.
namespace binary_test {

enum class color : std::uint8_t { red = 1, blue = 200 };
enum class level : std::int64_t { low = std::numeric_limits<std::int64_t>::min(), high = std::numeric_limits<std::int64_t>::max() };

struct integers {
  std::int8_t i8;
  std::int16_t i16;
  std::int32_t i32;
  std::int64_t i64;
  std::uint8_t u8;
  std::uint16_t u16;
  std::uint32_t u32;
  std::uint64_t u64;
  bool flag;
  color c;
  level l;
  bool operator==(const integers&) const = default;
};

struct floats {
  float f;
  double d;
};

struct pinned {
  std::int32_t n;
  std::string s;
  bool b;
  std::optional<std::uint16_t> o;
  std::vector<std::int8_t> v;
  double d;
};

struct item {
  std::string name;
  std::int32_t qty;
  bool operator==(const item&) const = default;
};

struct order {
  std::uint32_t id;
  std::vector<item> items;
  bool operator==(const order&) const = default;
};

struct containers {
  std::string text;
  coactor::bytes blob;
  std::vector<std::int32_t> list;
  std::vector<std::string> words;
  std::array<std::int16_t, 3> triple;
  std::array<item, 0> none;
  std::map<std::string, int> by_name;
  std::map<std::int64_t, std::string> by_i64;
  std::map<std::uint64_t, bool> by_u64;
  std::map<std::int8_t, std::uint8_t> by_i8;
  std::unordered_map<std::uint16_t, item> by_u16;
  std::optional<int> maybe;
  std::optional<int> nothing;
  std::optional<std::optional<int>> maybe_maybe;
  std::optional<std::vector<item>> maybe_items;
  std::vector<std::optional<std::string>> holes;
  std::vector<std::vector<std::int32_t>> nested;
  bool operator==(const containers&) const = default;
};

struct tree {
  std::string label;
  std::vector<tree> kids;
  bool operator==(const tree&) const = default;
};

using choice = std::variant<std::int32_t, std::string, item, std::vector<std::uint8_t>, std::optional<order>>;

struct with_variant {
  choice v;
  bool operator==(const with_variant&) const = default;
};

struct with_pids {
  coactor::pid local;
  coactor::pid remote;
  coactor::pid none;
};

struct two {
  std::int32_t a;
  std::int32_t b;
};
struct three {
  std::int32_t a;
  std::int32_t b;
  std::int32_t c;
};

struct text_msg {
  std::string s;
};
struct one_bool {
  bool b;
};
struct one_opt {
  std::optional<std::int32_t> o;
};
struct one_u8 {
  std::uint8_t v;
};
struct one_i8 {
  std::int8_t v;
};
struct one_u64 {
  std::uint64_t v;
};
struct one_var {
  std::variant<std::int32_t, std::string, bool> v;
};
struct one_map {
  std::map<std::int32_t, bool> m;
};
struct one_vec {
  std::vector<std::int64_t> v;
};
struct one_pid {
  coactor::pid p;
};
struct nest3 {
  std::vector<std::vector<std::vector<std::int32_t>>> v;
};

/// Most of the above in one value: the subject of the truncation test.
struct everything {
  integers ints;
  floats fl;
  containers c;
  tree t;
  with_variant wv;
  coactor::pid p;
  std::string tail;
};

}  // namespace binary_test

using namespace coactor;
using namespace binary_test;

namespace {

/// Bytes from a list of numbers (readable expected values).
std::string bytes_of(std::initializer_list<unsigned> list) {
  std::string out;
  for (unsigned b : list) out.push_back(static_cast<char>(b));
  return out;
}

template <class T>
std::string encoded(const T& v, const wire_context& context = {}) {
  std::string out;
  auto r = binary::encode(v, out, context);
  if (!r) FAIL(r.error().message());
  return out;
}

template <class T>
T decoded(std::string_view in, const decode_limits& limits = {}, const wire_context& context = {}) {
  auto r = binary::decode<T>(in, limits, context);
  if (!r) FAIL(r.error().message());
  return *r;
}

template <class T>
T round_trip(const T& v, const wire_context& context = {}) {
  return decoded<T>(encoded(v, context), {}, context);
}

template <class T>
error failure(std::string_view in, const decode_limits& limits = {}) {
  auto r = binary::decode<T>(in, limits);
  if (r) FAIL("decoded without error");
  return r.error();
}

#define CHECK_FAILS_WITH(T, in, limits, code, what)  \
  do {                                               \
    const error e_ = failure<T>(in, limits);         \
    CHECK(e_ == (code));                             \
    CHECK_THAT(e_.detail(), Catch::Contains(what));  \
  } while (0)
#define CHECK_FAILS(T, in, code, what) CHECK_FAILS_WITH(T, in, decode_limits{}, code, what)

bool same_bits(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }
bool same_bits(float a, float b) { return std::memcmp(&a, &b, sizeof a) == 0; }

tree chain(int depth) {
  tree t{"leaf", {}};
  for (int i = 1; i < depth; ++i) t = tree{"n", {std::move(t)}};
  return t;
}

everything sample() {
  everything e{};
  e.ints = integers{-1, 300, -70000, std::numeric_limits<std::int64_t>::min(), 255, 65535, 4294967295u,
                    std::numeric_limits<std::uint64_t>::max(), true, color::blue, level::low};
  e.fl = floats{-2.5f, 1e300};
  e.c.text = "héllo 😀";
  e.c.blob = {std::byte{0}, std::byte{0xff}, std::byte{0x80}};
  e.c.list = {1, -1, 1 << 30};
  e.c.words = {"a", "", "日本"};
  e.c.triple = {-1, 0, 1};
  e.c.by_name = {{"x", 1}, {"y", -2}};
  e.c.by_i64 = {{-5, "m"}, {5, "p"}};
  e.c.by_u64 = {{0, false}, {std::numeric_limits<std::uint64_t>::max(), true}};
  e.c.by_i8 = {{-128, 255}};
  e.c.by_u16 = {{7, item{"seven", 7}}};
  e.c.maybe = 42;
  e.c.maybe_maybe = std::optional<int>{};
  e.c.maybe_items = std::vector<item>{{"i", 1}};
  e.c.holes = {std::nullopt, "h"};
  e.c.nested = {{}, {1, 2}};
  e.t = tree{"root", {tree{"a", {}}, tree{"b", {tree{"c", {}}}}}};
  e.wv.v = item{"v", -9};
  e.p = pid(0x1234, 0x5678, 3, address_book::process().intern("10.1.2.3:4000"));
  e.tail = "end";
  return e;
}

}  // namespace

// ---- the format, byte for byte ----

TEST_CASE("binary: the bytes of a small struct are pinned", "[codec][binary]") {
  // 06: six fields
  // 03: n = -2, zigzag 3
  // 03 68 c3 a9: "hé" (3 bytes: h, then U+00E9 as c3 a9)
  // 01: b = true
  // 01 ac 02: o = 300, present; 300 = 0b10_0101100 -> 0xac 0x02
  // 02 01 02: v = {-1, 1}, two elements, zigzag 1 and 2
  // 00 00 00 00 00 00 f0 3f: d = 1.0 = 0x3ff0000000000000, little-endian
  const pinned p{-2, "hé", true, 300, {-1, 1}, 1.0};
  CHECK(encoded(p) == bytes_of({0x06, 0x03, 0x03, 0x68, 0xc3, 0xa9, 0x01, 0x01, 0xac, 0x02, 0x02, 0x01, 0x02, 0x00,
                                0x00, 0x00, 0x00, 0x00, 0x00, 0xf0, 0x3f}));
  const pinned back = decoded<pinned>(encoded(p));
  CHECK(back.n == -2);
  CHECK(back.s == "hé");
  CHECK(back.b);
  CHECK(back.o == std::optional<std::uint16_t>(300));
  CHECK(back.v == std::vector<std::int8_t>{-1, 1});
  CHECK(back.d == 1.0);
}

TEST_CASE("binary: the bytes of each kind of value", "[codec][binary]") {
  // Top-level values that are not structs are just their encoding.
  CHECK(encoded(true) == bytes_of({0x01}));
  CHECK(encoded(std::uint8_t{0}) == bytes_of({0x00}));
  CHECK(encoded(std::uint8_t{127}) == bytes_of({0x7f}));
  CHECK(encoded(std::uint8_t{128}) == bytes_of({0x80, 0x01}));
  CHECK(encoded(std::int32_t{-1}) == bytes_of({0x01}));
  CHECK(encoded(std::int32_t{1}) == bytes_of({0x02}));
  CHECK(encoded(std::int32_t{-64}) == bytes_of({0x7f}));
  CHECK(encoded(std::int32_t{64}) == bytes_of({0x80, 0x01}));
  CHECK(encoded(std::numeric_limits<std::uint64_t>::max()) ==
        bytes_of({0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}));
  // INT64_MIN zigzags to UINT64_MAX, INT64_MAX to UINT64_MAX - 1.
  CHECK(encoded(std::numeric_limits<std::int64_t>::min()) ==
        bytes_of({0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}));
  CHECK(encoded(std::numeric_limits<std::int64_t>::max()) ==
        bytes_of({0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}));
  CHECK(encoded(color::blue) == bytes_of({0xc8, 0x01}));  // 200
  CHECK(encoded(1.5f) == bytes_of({0x00, 0x00, 0xc0, 0x3f}));  // 0x3fc00000
  CHECK(encoded(-2.0) == bytes_of({0, 0, 0, 0, 0, 0, 0x00, 0xc0}));  // 0xc000000000000000
  CHECK(encoded(std::string("ab")) == bytes_of({0x02, 0x61, 0x62}));
  CHECK(encoded(std::string()) == bytes_of({0x00}));
  CHECK(encoded(bytes{std::byte{0}, std::byte{0xff}}) == bytes_of({0x02, 0x00, 0xff}));
  CHECK(encoded(std::vector<std::uint16_t>{1, 300}) == bytes_of({0x02, 0x01, 0xac, 0x02}));
  CHECK(encoded(std::array<std::uint8_t, 3>{1, 2, 3}) == bytes_of({0x01, 0x02, 0x03}));  // no count
  CHECK(encoded(std::map<std::int8_t, bool>{{1, false}, {-1, true}}) == bytes_of({0x02, 0x01, 0x01, 0x02, 0x00}));
  CHECK(encoded(std::map<std::string, std::uint8_t>{{"b", 2}, {"a", 1}}) ==
        bytes_of({0x02, 0x01, 0x61, 0x01, 0x01, 0x62, 0x02}));
  CHECK(encoded(std::optional<std::int8_t>{}) == bytes_of({0x00}));
  CHECK(encoded(std::optional<std::int8_t>{-3}) == bytes_of({0x01, 0x05}));
  CHECK(encoded(choice{std::string("z")}) == bytes_of({0x01, 0x01, 0x7a}));
  CHECK(encoded(choice{item{"", 1}}) == bytes_of({0x02, 0x02, 0x00, 0x02}));
  CHECK(encoded(two{1, -1}) == bytes_of({0x02, 0x02, 0x01}));
  CHECK(encoded(tree{"", {tree{}}}) == bytes_of({0x02, 0x00, 0x01, 0x02, 0x00, 0x00}));
}

TEST_CASE("binary: the bytes of pids", "[codec][binary]") {
  // null: 8 zero bytes, nothing else
  CHECK(encoded(pid{}) == std::string(8, '\0'));
  // remote: incarnation and id little-endian, slot 129 = 81 01, then the address "h:1"
  const pid remote(0x0102030405060708, 0x1112131415161718, 129, address_book::process().intern("h:1"));
  CHECK(encoded(remote) == bytes_of({0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01, 0x18, 0x17, 0x16, 0x15, 0x14,
                                     0x13, 0x12, 0x11, 0x81, 0x01, 0x03, 0x68, 0x3a, 0x31}));
  // a pid of the encoding node travels with that node's address (the pid itself holds none)
  const wire_context here{0x0a, "n:2"};
  CHECK(encoded(pid(0x0a, 0x0b, 0, 0), here) ==
        bytes_of({0x0a, 0, 0, 0, 0, 0, 0, 0, 0x0b, 0, 0, 0, 0, 0, 0, 0, 0x00, 0x03, 0x6e, 0x3a, 0x32}));
  // a remote pid whose address is unknown travels with an empty one
  CHECK(encoded(pid(0x0c, 0x0d, 1, 0)) ==
        bytes_of({0x0c, 0, 0, 0, 0, 0, 0, 0, 0x0d, 0, 0, 0, 0, 0, 0, 0, 0x01, 0x00}));
}

TEST_CASE("binary: a process_name is its address and its name, as two strings", "[codec][binary]") {
  CHECK(encoded(process_name{"h:1", "log"}) == bytes_of({0x03, 0x68, 0x3a, 0x31, 0x03, 0x6c, 0x6f, 0x67}));
  CHECK(round_trip(process_name{"", "here"}) == process_name{"", "here"});
  CHECK(round_trip(process_name{"[::1]:9000", "ünï"}) == process_name{"[::1]:9000", "ünï"});
  CHECK_FAILS(process_name, bytes_of({0x03, 0x68, 0x3a}), errc::bad_message, "");  // cut in the address
  CHECK_FAILS(process_name, bytes_of({0x00, 0x01, 0xff}), errc::bad_message, "name");  // invalid UTF-8 in the name
}

// ---- round trips ----

TEST_CASE("binary: integers, bools and enums round trip at their limits", "[codec][binary]") {
  using lim8 = std::numeric_limits<std::int8_t>;
  using lim16 = std::numeric_limits<std::int16_t>;
  using lim32 = std::numeric_limits<std::int32_t>;
  using lim64 = std::numeric_limits<std::int64_t>;
  const integers lows{lim8::min(), lim16::min(), lim32::min(), lim64::min(), 0, 0, 0, 0, false, color::red, level::low};
  const integers highs{lim8::max(), lim16::max(),  lim32::max(), lim64::max(), 255, 65535, 4294967295u,
                       std::numeric_limits<std::uint64_t>::max(), true, static_cast<color>(255), level::high};
  const integers zeros{0, 0, 0, 0, 0, 0, 0, 0, false, static_cast<color>(0), static_cast<level>(0)};
  const integers minus_one{-1, -1, -1, -1, 1, 1, 1, 1, true, color::red, static_cast<level>(-1)};
  CHECK(round_trip(lows) == lows);
  CHECK(round_trip(highs) == highs);
  CHECK(round_trip(zeros) == zeros);
  CHECK(round_trip(minus_one) == minus_one);
  // Every value of the narrow types.
  for (int v = -128; v <= 127; ++v) CHECK(round_trip(static_cast<std::int8_t>(v)) == v);
  for (int v = 0; v <= 255; ++v) CHECK(round_trip(static_cast<std::uint8_t>(v)) == v);
  // Powers of two and their neighbours, where varints change length.
  for (int shift = 0; shift < 64; ++shift) {
    const std::uint64_t u = std::uint64_t{1} << shift;
    for (std::uint64_t x : {u - 1, u, u + 1}) {
      CHECK(round_trip(x) == x);
      CHECK(round_trip(static_cast<std::int64_t>(x)) == static_cast<std::int64_t>(x));
      const auto negated = static_cast<std::int64_t>(0 - x);  // wraps: 2^63 gives INT64_MIN
      CHECK(round_trip(negated) == negated);
    }
  }
}

TEST_CASE("binary: floating point round trips bit for bit, NaN payloads included", "[codec][binary]") {
  const std::uint32_t float_bits[] = {
      0x00000000, 0x80000000,  // +0, -0
      0x7f800000, 0xff800000,  // +inf, -inf
      0x7fc00000, 0xffc00000,  // quiet NaNs
      0x7fc00001, 0x7f800001,  // quiet NaN with payload, signalling NaN
      0xffbfffff, 0x00000001,  // negative signalling NaN with all payload bits, smallest subnormal
      0x007fffff, 0x00800000,  // largest subnormal, smallest normal
      0x7f7fffff, 0x3f800000,  // largest finite, 1.0
  };
  const std::uint64_t double_bits[] = {
      0x0000000000000000, 0x8000000000000000, 0x7ff0000000000000, 0xfff0000000000000,
      0x7ff8000000000000, 0xfff8000000000000, 0x7ff8deadbeef0001, 0x7ff0000000000001,
      0xfff7ffffffffffff, 0x0000000000000001, 0x000fffffffffffff, 0x0010000000000000,
      0x7fefffffffffffff, 0x3ff0000000000000,
  };
  for (std::uint32_t bits : float_bits) {
    INFO("float bits " << std::hex << bits);
    const float f = std::bit_cast<float>(bits);
    const std::string e = encoded(floats{f, 0.0});
    REQUIRE(e.size() == 1 + 4 + 8);
    CHECK(static_cast<std::uint8_t>(e[1]) == (bits & 0xff));
    CHECK(static_cast<std::uint8_t>(e[4]) == (bits >> 24));
    CHECK(std::bit_cast<std::uint32_t>(decoded<floats>(e).f) == bits);
  }
  for (std::uint64_t bits : double_bits) {
    INFO("double bits " << std::hex << bits);
    const double d = std::bit_cast<double>(bits);
    const std::string e = encoded(floats{0.0f, d});
    REQUIRE(e.size() == 1 + 4 + 8);
    CHECK(static_cast<std::uint8_t>(e[5]) == (bits & 0xff));
    CHECK(static_cast<std::uint8_t>(e[12]) == (bits >> 56));
    CHECK(std::bit_cast<std::uint64_t>(decoded<floats>(e).d) == bits);
  }
}

TEST_CASE("binary: strings round trip any valid UTF-8, bytes any byte", "[codec][binary]") {
  const std::string texts[] = {
      "",
      "plain ascii",
      std::string("nul\0inside", 10),
      "\x7f",
      "é",                 // 2 bytes, U+00E9
      "\xdf\xbf",          // U+07FF, the last 2-byte character
      "日本語",            // 3 bytes each
      "\xef\xbf\xbf",      // U+FFFF
      "\xee\x80\x80",      // U+E000, just after the surrogates
      "\xed\x9f\xbf",      // U+D7FF, just before them
      "😀",                // 4 bytes, U+1F600
      "\xf0\x90\x80\x80",  // U+10000, the first 4-byte character
      "\xf4\x8f\xbf\xbf",  // U+10FFFF, the last character
      "mixed é 日 😀 end",
      std::string(1000, 'x') + "😀",
  };
  for (const std::string& s : texts) {
    INFO(s);
    CHECK(round_trip(text_msg{s}).s == s);
    CHECK(round_trip(s) == s);
  }
  bytes all;
  for (int b = 0; b < 256; ++b) all.push_back(static_cast<std::byte>(b));
  const std::string e = encoded(all);
  CHECK(e.size() == 2 + 256);
  CHECK(e.substr(0, 2) == bytes_of({0x80, 0x02}));  // 256
  CHECK(round_trip(all) == all);
  CHECK(round_trip(bytes{}).empty());
}

TEST_CASE("binary: containers round trip, empty ones included", "[codec][binary]") {
  containers c = sample().c;
  CHECK(round_trip(c) == c);
  const containers empty{};
  CHECK(round_trip(empty) == empty);
  // An optional holding an empty optional stays that way (unlike JSON).
  containers oo{};
  oo.maybe_maybe = std::optional<int>{};
  const containers back = round_trip(oo);
  REQUIRE(back.maybe_maybe.has_value());
  CHECK(!back.maybe_maybe->has_value());
  // Maps with integer keys at their limits.
  std::map<std::int64_t, std::int64_t> m{{std::numeric_limits<std::int64_t>::min(), 1}, {-1, 2}, {0, 3},
                                         {std::numeric_limits<std::int64_t>::max(), 4}};
  CHECK(round_trip(m) == m);
  std::unordered_map<std::uint64_t, std::string> u{{0, ""}, {std::numeric_limits<std::uint64_t>::max(), "max"}};
  CHECK(round_trip(u) == u);
  std::vector<bool> flags{true, false, true};
  CHECK(round_trip(flags) == flags);
}

TEST_CASE("binary: nested and recursive structs round trip", "[codec][binary]") {
  const order o{9, {{"tea", 2}, {"cake", -1}, {"", 0}}};
  CHECK(round_trip(o) == o);
  const tree t = sample().t;
  CHECK(round_trip(t) == t);
  const tree deep = chain(30);  // 60 levels: within the default max_depth of 64
  CHECK(round_trip(deep) == deep);
}

TEST_CASE("binary: variants round trip every alternative", "[codec][binary]") {
  const choice values[] = {choice{std::int32_t{-7}},
                           choice{std::string("s")},
                           choice{item{"i", 3}},
                           choice{std::vector<std::uint8_t>{0, 255}},
                           choice{std::optional<order>{}},
                           choice{std::optional<order>{order{1, {{"x", 1}}}}}};
  for (const choice& v : values) {
    const with_variant back = round_trip(with_variant{v});
    CHECK(back.v.index() == v.index());
    CHECK(back == with_variant{v});
  }
}

TEST_CASE("binary: pids keep their identity and address across nodes", "[codec][binary]") {
  const wire_context sender{0x111, "10.0.0.1:9000"};
  const wire_context receiver{0x999, "10.0.0.3:9000"};
  const pid local(0x111, 0x22, 3);  // a process of the sending node: no address of its own
  const pid remote(0xaaa, 0xbbb, 7, address_book::process().intern("10.0.0.2:9000"));
  const std::string e = encoded(with_pids{local, remote, pid{}}, sender);

  // On another node both arrive as remote pids with their node's address.
  const with_pids there = decoded<with_pids>(e, {}, receiver);
  CHECK(there.local == local);
  CHECK(there.local.address() == "10.0.0.1:9000");
  CHECK(there.remote == remote);
  CHECK(there.remote.address() == "10.0.0.2:9000");
  CHECK(there.none.is_null());

  // Back on the sending node its own pid is local again (no address).
  const with_pids home = decoded<with_pids>(e, {}, sender);
  CHECK(home.local == local);
  CHECK(home.local.address_index() == 0);
  CHECK(home.remote.address() == "10.0.0.2:9000");

  // The receiver passing its own pid back: encoded with its address, local again when it returns.
  const pid theirs(0x999, 0x5, 1);
  const with_pids reply = decoded<with_pids>(encoded(with_pids{theirs, local, {}}, receiver), {}, sender);
  CHECK(reply.local.address() == "10.0.0.3:9000");
  CHECK(reply.remote == local);
  CHECK(reply.remote.address_index() == 0);

  // A remote pid with no known address stays without one.
  const pid unknown(0xccc, 0xddd, 0, 0);
  const with_pids u = decoded<with_pids>(encoded(with_pids{unknown, unknown, unknown}));
  CHECK(u.local == unknown);
  CHECK(u.local.address().empty());
}

TEST_CASE("binary: everything at once round trips", "[codec][binary]") {
  const everything e = sample();
  const everything back = round_trip(e);
  CHECK(back.ints == e.ints);
  CHECK(same_bits(back.fl.f, e.fl.f));
  CHECK(same_bits(back.fl.d, e.fl.d));
  CHECK(back.c == e.c);
  CHECK(back.t == e.t);
  CHECK(back.wv == e.wv);
  CHECK(back.p == e.p);
  CHECK(back.p.address() == "10.1.2.3:4000");
  CHECK(back.tail == e.tail);
  CHECK(encoded(back) == encoded(e));
}

TEST_CASE("binary: decode_into overwrites what was there", "[codec][binary]") {
  containers c{};
  c.text = "old";
  c.list = {9, 9, 9};
  c.by_name = {{"old", 1}};
  c.maybe = 5;
  c.by_u16 = {{1, item{"old", 1}}};
  c.holes = {"old"};
  const containers fresh{};
  REQUIRE(binary::decode_into(encoded(fresh), c));
  CHECK(c == fresh);
  choice v = std::string("old");
  REQUIRE(binary::decode_into(encoded(choice{std::int32_t{4}}), v));
  CHECK(v == choice{std::int32_t{4}});
}

TEST_CASE("binary: encode appends, and a string that is not UTF-8 fails leaving the output alone",
          "[codec][binary][hostile]") {
  std::string out = "prefix";
  REQUIRE(binary::encode(std::uint8_t{5}, out));
  CHECK(out == "prefix\x05");
  order bad{1, {{"ok", 1}, {"b\xffx", 2}}};
  auto r = binary::encode(bad, out);
  REQUIRE(!r);
  CHECK(r.error() == errc::bad_message);
  CHECK(r.error().detail() == "binary_test::order.items[1].name: invalid UTF-8 at byte 1 of a string");
  CHECK(out == "prefix\x05");
}

// ---- hostile input ----

TEST_CASE("binary: truncation at every length is an error", "[codec][binary][hostile]") {
  const std::string full = encoded(sample());
  REQUIRE(binary::decode<everything>(full));
  for (std::size_t n = 0; n < full.size(); ++n) {
    INFO("prefix of " << n << " of " << full.size() << " bytes");
    const error e = failure<everything>(std::string_view(full).substr(0, n));
    CHECK(e == errc::bad_message);
    // Either a field runs out of bytes, or a declared length no longer fits what is left.
    const bool truncated = e.detail().find("truncated: needs ") != std::string::npos;
    const bool length = e.detail().find("bytes left") != std::string::npos;
    CHECK((truncated || length));
    CHECK(e.detail().rfind("binary_test::everything", 0) == 0);
  }
  // With fields of fixed size only, every cut is a plain truncation, and the error names the field.
  const std::string f = encoded(floats{1.0f, 2.0});
  for (std::size_t n = 0; n < f.size(); ++n) {
    INFO("prefix of " << n);
    CHECK_FAILS(floats, f.substr(0, n), errc::bad_message, "truncated: needs ");
  }
  CHECK(failure<floats>(f.substr(0, 3)).detail() == "binary_test::floats.f: truncated: needs 4 more byte(s), 2 left");
  CHECK(failure<floats>(f.substr(0, 9)).detail() == "binary_test::floats.d: truncated: needs 8 more byte(s), 4 left");
  CHECK(failure<floats>("").detail() == "binary_test::floats: truncated: needs 1 more byte(s), 0 left");
}

TEST_CASE("binary: a struct with another field count is refused", "[codec][binary][hostile]") {
  CHECK(failure<two>(encoded(three{1, 2, 3})).detail() == "binary_test::two: struct has 2 fields, message has 3");
  CHECK(failure<three>(encoded(two{1, 2})).detail() == "binary_test::three: struct has 3 fields, message has 2");
  CHECK_FAILS(order, bytes_of({0x02, 0x01, 0x01, 0x01, 0x00}), errc::bad_message,
              "binary_test::order.items[0]: struct has 2 fields, message has 1");
}

TEST_CASE("binary: varints that overflow 64 bits and integers out of range", "[codec][binary][hostile]") {
  // UINT64_MAX is nine 0xff and a 0x01; a last byte above 1 overflows.
  CHECK(decoded<one_u64>(bytes_of({0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01})).v ==
        std::numeric_limits<std::uint64_t>::max());
  CHECK(decoded<one_u64>(bytes_of({0x01, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01})).v ==
        std::uint64_t{1} << 63);
  CHECK_FAILS(one_u64, bytes_of({0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02}), errc::bad_message,
              "binary_test::one_u64.v: varint overflows 64 bits");
  CHECK_FAILS(one_u64, bytes_of({0x01, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00}),
              errc::bad_message, "varint overflows 64 bits");
  CHECK_FAILS(one_u64, std::string(1, '\x01') + std::string(40, '\xff'), errc::bad_message, "varint overflows 64 bits");
  // A varint cut in the middle.
  CHECK_FAILS(one_u64, bytes_of({0x01, 0xff, 0xff}), errc::bad_message,
              "binary_test::one_u64.v: truncated: needs 1 more byte(s), 0 left");
  // The field count is a varint too.
  CHECK_FAILS(one_u64, std::string(11, '\xff'), errc::bad_message, "binary_test::one_u64: varint overflows 64 bits");
  // Values that do not fit the field's type.
  CHECK_FAILS(one_u8, bytes_of({0x01, 0x80, 0x02}), errc::bad_message, "binary_test::one_u8.v: 256 is out of range for u8");
  CHECK_FAILS(one_i8, bytes_of({0x01, 0x80, 0x02}), errc::bad_message, "binary_test::one_i8.v: 128 is out of range for i8");
  CHECK_FAILS(one_i8, bytes_of({0x01, 0x81, 0x02}), errc::bad_message, "-129 is out of range for i8");
  CHECK(decoded<one_i8>(bytes_of({0x01, 0xff, 0x01})).v == -128);  // zigzag 255
  CHECK(decoded<one_i8>(bytes_of({0x01, 0xfe, 0x01})).v == 127);   // zigzag 254
  CHECK_FAILS(std::uint32_t, bytes_of({0x80, 0x80, 0x80, 0x80, 0x10}), errc::bad_message, "4294967296 is out of range for u32");
  CHECK_FAILS(color, bytes_of({0x80, 0x02}), errc::bad_message, "256 is out of range for u8");
}

TEST_CASE("binary: lengths larger than the input are refused before anything is allocated", "[codec][binary][hostile]") {
  CHECK_FAILS(text_msg, bytes_of({0x01, 0x0a, 0x61, 0x62, 0x63}), errc::bad_message,
              "binary_test::text_msg.s: declared length 10 exceeds the 3 bytes left");
  CHECK_FAILS(bytes, bytes_of({0x05, 0x00}), errc::bad_message, "bytes: declared length 5 exceeds the 1 bytes left");
  // Each i64 takes at least one byte, so 4 elements cannot fit in 3 bytes.
  CHECK_FAILS(one_vec, bytes_of({0x01, 0x04, 0x00, 0x00, 0x00}), errc::bad_message,
              "binary_test::one_vec.v: declared length 4 exceeds the 3 bytes left");
  // Each map entry takes at least two bytes.
  CHECK_FAILS(one_map, bytes_of({0x01, 0x02, 0x00, 0x00, 0x02}), errc::bad_message, "declared length 2 exceeds the 3 bytes left");
  // Each pid takes at least eight bytes.
  CHECK_FAILS(std::vector<pid>, bytes_of({0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}), errc::bad_message,
              "declared length 2 exceeds the 10 bytes left");

  // Huge declared counts, a few bytes of input: refused before anything is reserved (reserving
  // 2^63 elements would throw, and fail the test).
  const auto v = binary::decode<one_vec>(bytes_of({0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, 0x00}));
  REQUIRE(!v);
  CHECK(v.error() == errc::bad_message);
  CHECK(v.error().detail() == "binary_test::one_vec.v: declared length 9223372036854775807 exceeds the 1 bytes left");
  const auto s = binary::decode<text_msg>(bytes_of({0x01, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x61}));
  REQUIRE(!s);
  CHECK(s.error().detail() == "binary_test::text_msg.s: declared length 4294967295 exceeds the 1 bytes left");
  const auto m = binary::decode<one_map>(bytes_of({0x01, 0x80, 0x80, 0x80, 0x80, 0x10, 0x00, 0x00}));
  REQUIRE(!m);
  CHECK(m.error().detail() == "binary_test::one_map.m: declared length 4294967296 exceeds the 2 bytes left");
  const auto n = binary::decode<nest3>(bytes_of({0x01, 0x01, 0xff, 0xff, 0xff, 0x7f}));
  REQUIRE(!n);
  CHECK(n.error().detail() == "binary_test::nest3.v[0]: declared length 268435455 exceeds the 0 bytes left");
}

TEST_CASE("binary: max_allocation bounds what decoding allocates", "[codec][binary][hostile]") {
  // The budget is charged before anything is allocated. 100 one-byte elements, present in the input,
  // but 100 i64 need 800 bytes.
  std::string in = bytes_of({0x01, 0x64}) + std::string(100, '\0');
  REQUIRE(decoded<one_vec>(in).v.size() == 100);
  decode_limits limits;
  limits.max_allocation = 799;
  const auto r = binary::decode<one_vec>(in, limits);
  REQUIRE(!r);
  CHECK(r.error() == errc::too_large);
  CHECK(r.error().detail() == "binary_test::one_vec.v: decoded content exceeds 799 bytes");
  limits.max_allocation = 800;
  CHECK(binary::decode<one_vec>(in, limits));

  // The budget is shared by the whole message: two strings of 6 bytes do not fit in 11.
  limits.max_allocation = 11;
  const std::string words = encoded(std::vector<std::string>{"abcdef", "ghijkl"});
  const auto w = binary::decode<std::vector<std::string>>(words, limits);
  REQUIRE(!w);
  CHECK(w.error() == errc::too_large);
  // (the vector itself charges 2 * sizeof(std::string) first, which is already over 11)
  CHECK(w.error().detail() == "vector<string>: decoded content exceeds 11 bytes");
  limits.max_allocation = 2 * sizeof(std::string) + 11;
  const auto w2 = binary::decode<std::vector<std::string>>(words, limits);
  REQUIRE(!w2);
  CHECK(w2.error().detail() == "vector<string>[1]: decoded content exceeds " + std::to_string(limits.max_allocation) + " bytes");
  limits.max_allocation = 2 * sizeof(std::string) + 12;
  CHECK(binary::decode<std::vector<std::string>>(words, limits));

  // No budget at all: only values without allocated content decode.
  limits.max_allocation = 0;
  CHECK(binary::decode<text_msg>(encoded(text_msg{""}), limits));
  CHECK(binary::decode<one_vec>(encoded(one_vec{}), limits));
  CHECK_FAILS_WITH(text_msg, encoded(text_msg{"a"}), limits, errc::too_large,
                   "binary_test::text_msg.s: decoded content exceeds 0 bytes");
}

TEST_CASE("binary: nesting deeper than max_depth is refused", "[codec][binary][hostile]") {
  // Each level of the tree is a struct and its vector of children: two levels of nesting.
  decode_limits limits;
  limits.max_depth = 10;
  CHECK(decoded<tree>(encoded(chain(5)), limits) == chain(5));
  const error e = failure<tree>(encoded(chain(6)), limits);
  CHECK(e == errc::too_large);
  // The sixth struct is the eleventh level.
  CHECK(e.detail() == "binary_test::tree.kids[0].kids[0].kids[0].kids[0].kids[0]: nested deeper than 10 levels");
  CHECK(failure<tree>(encoded(chain(33))) == errc::too_large);  // 66 > the default 64
  CHECK(decoded<tree>(encoded(chain(32))) == chain(32));

  // Hostile: a million levels declared in 3 bytes each; refused at the limit, not by a stack overflow.
  std::string deep;
  for (int i = 0; i < 1000000; ++i) deep += bytes_of({0x02, 0x00, 0x01});
  CHECK_FAILS(tree, deep, errc::too_large, "nested deeper than 64 levels");

  // Containers and optionals count too.
  using vvv = std::vector<std::vector<std::vector<std::int32_t>>>;
  vvv two_levels(1);  // one empty middle vector
  vvv three_levels(1, std::vector<std::vector<std::int32_t>>(1));  // ... holding one empty inner vector
  limits.max_depth = 2;
  CHECK(binary::decode<vvv>(encoded(two_levels), limits));
  CHECK_FAILS_WITH(vvv, encoded(three_levels), limits, errc::too_large,
                   "vector<vector<vector<i32>>>[0][0]: nested deeper than 2 levels");
  limits.max_depth = 1;
  CHECK_FAILS_WITH(one_opt, bytes_of({0x01, 0x01, 0x02}), limits, errc::too_large, "binary_test::one_opt.o: nested deeper than 1 levels");
  CHECK(binary::decode<one_opt>(bytes_of({0x01, 0x00}), limits));
}

TEST_CASE("binary: invalid UTF-8 in a string is refused", "[codec][binary][hostile]") {
  struct bad_case {
    std::string text;
    std::size_t at;
  };
  const bad_case cases[] = {
      {"\x80", 0},                  // a continuation byte on its own
      {"a\xbf", 1},
      {"\xc0\x80", 0},              // overlong NUL
      {"\xc1\xbf", 0},              // overlong 2-byte
      {"\xe0\x80\x80", 0},          // overlong 3-byte
      {"\xe0\x9f\xbf", 0},          // overlong U+07FF
      {"\xf0\x80\x80\x80", 0},      // overlong 4-byte
      {"\xf0\x8f\xbf\xbf", 0},      // overlong U+FFFF
      {"ok\xed\xa0\x80", 2},        // U+D800, a surrogate
      {"\xed\xbf\xbf", 0},          // U+DFFF
      {"\xf4\x90\x80\x80", 0},      // U+110000, above U+10FFFF
      {"\xf5\x80\x80\x80", 0},      // no such lead byte
      {"\xff", 0},
      {"abc\xe2\x82", 3},           // truncated 3-byte sequence at the end
      {"\xf0\x9f\x98", 0},          // truncated 4-byte sequence
      {"\xe2\x28\xa1", 0},          // bad continuation
      {"12345678\xc3", 8},          // after the 8-byte ASCII fast path
  };
  for (const bad_case& c : cases) {
    INFO("text of " << c.text.size() << " bytes");
    std::string in = bytes_of({0x01, static_cast<unsigned>(c.text.size())}) + c.text;
    const error e = failure<text_msg>(in);
    CHECK(e == errc::bad_message);
    CHECK(e.detail() == "binary_test::text_msg.s: invalid UTF-8 at byte " + std::to_string(c.at) + " of a string");
  }
  // In a pid's address too.
  std::string p = bytes_of({0x01, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0x00, 0x01, 0xff});
  CHECK_FAILS(one_pid, p, errc::bad_message, "binary_test::one_pid.p: invalid UTF-8 at byte 0 of a string");
  // bytes are not text: anything goes.
  CHECK(decoded<bytes>(bytes_of({0x02, 0xc0, 0x80})).size() == 2);
}

TEST_CASE("binary: bad tags, variant indexes, map keys, pids and trailing bytes", "[codec][binary][hostile]") {
  CHECK_FAILS(one_bool, bytes_of({0x01, 0x02}), errc::bad_message, "binary_test::one_bool.b: bool byte is 2, not 0 or 1");
  CHECK_FAILS(one_bool, bytes_of({0x01, 0xff}), errc::bad_message, "bool byte is 255, not 0 or 1");
  CHECK_FAILS(one_opt, bytes_of({0x01, 0x02, 0x00}), errc::bad_message, "binary_test::one_opt.o: optional tag is 2, not 0 or 1");
  CHECK_FAILS(one_var, bytes_of({0x01, 0x03, 0x00}), errc::bad_message, "binary_test::one_var.v: variant alternative 3 of 3");
  CHECK_FAILS(one_var, bytes_of({0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}), errc::bad_message,
              "variant alternative 18446744073709551615 of 3");
  CHECK(std::get<bool>(decoded<one_var>(bytes_of({0x01, 0x02, 0x01})).v));
  CHECK_FAILS(one_var, bytes_of({0x01, 0x02, 0x07}), errc::bad_message, "binary_test::one_var.v: bool byte is 7, not 0 or 1");
  // {5: true, 5: false}
  CHECK_FAILS(one_map, bytes_of({0x01, 0x02, 0x0a, 0x01, 0x0a, 0x00}), errc::bad_message,
              "binary_test::one_map.m[1]: duplicate map key");
  using str_map = std::unordered_map<std::string, int>;
  CHECK_FAILS(str_map, bytes_of({0x02, 0x01, 0x61, 0x00, 0x01, 0x61, 0x02}),
              errc::bad_message, "map<string,i32>[1]: duplicate map key");
  // Trailing bytes after a complete value.
  CHECK_FAILS(one_bool, bytes_of({0x01, 0x01, 0x00}), errc::bad_message, "binary_test::one_bool: 1 trailing byte(s)");
  CHECK_FAILS(std::string, bytes_of({0x00, 0x61, 0x62}), errc::bad_message, "string: 2 trailing byte(s)");
  // pids: id 0, slot beyond 32 bits, an address longer than 255 bytes.
  const std::string node = bytes_of({0x01, 0, 0, 0, 0, 0, 0, 0});
  const std::string id = bytes_of({0x02, 0, 0, 0, 0, 0, 0, 0});
  CHECK_FAILS(one_pid, bytes_of({0x01}) + node + std::string(8, '\0') + bytes_of({0x00, 0x00}), errc::bad_message,
              "binary_test::one_pid.p: pid with id 0");
  CHECK_FAILS(one_pid, bytes_of({0x01}) + node + id + bytes_of({0x80, 0x80, 0x80, 0x80, 0x10, 0x00}), errc::bad_message,
              "binary_test::one_pid.p: pid slot out of range");
  CHECK(decoded<one_pid>(bytes_of({0x01}) + node + id + bytes_of({0xff, 0xff, 0xff, 0xff, 0x0f, 0x00})).p.slot() ==
        0xffffffffu);
  CHECK_FAILS(one_pid, bytes_of({0x01}) + node + id + bytes_of({0x00, 0x80, 0x02}) + std::string(256, 'a'),
              errc::bad_message, "binary_test::one_pid.p: pid address longer than 255 bytes");
  CHECK(decoded<one_pid>(bytes_of({0x01}) + node + id + bytes_of({0x00, 0xff, 0x01}) + std::string(255, 'a')).p.address() ==
        std::string(255, 'a'));
}

TEST_CASE("binary: input over max_message_bytes is refused before decoding", "[codec][binary][hostile]") {
  decode_limits limits;
  limits.max_message_bytes = 4;
  CHECK(decoded<std::string>(bytes_of({0x03, 0x61, 0x62, 0x63}), limits) == "abc");
  const error e = failure<std::string>(bytes_of({0x04, 0x61, 0x62, 0x63, 0x64}), limits);
  CHECK(e == errc::too_large);
  CHECK(e.detail() == "string: message of 5 bytes exceeds the limit of 4");
  // Checked first: garbage over the limit is too_large, not bad_message.
  CHECK(failure<two>(std::string(5, '\xff'), limits) == errc::too_large);
}
