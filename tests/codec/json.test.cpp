// The JSON codec: the text it writes, round trips of every supported type, and hostile input.
#include <coactor/codec/json.hpp>
#include <coactor/detail/utf8.hpp>

#include <catch2/catch.hpp>

#include <array>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <unordered_map>
#include <variant>
#include <vector>

// Message types live at namespace scope (reflect.hpp: local classes cannot be reflected by clang, and types
// in an anonymous namespace get positional field names).
namespace json_test {

enum class color : std::uint8_t { red = 1, green = 7 };
enum class level : std::int64_t { low = std::numeric_limits<std::int64_t>::min(), high = 5 };

struct item {
  std::string name;
  double price;
  bool operator==(const item&) const = default;
};

struct small {
  int n;
  std::string s;
  coactor::pid p;
};

struct numbers {
  bool yes;
  bool no;
  std::int8_t i8;
  std::int16_t i16;
  std::int32_t i32;
  std::int64_t i64;
  std::uint8_t u8;
  std::uint16_t u16;
  std::uint32_t u32;
  std::uint64_t u64;
  color c;
  level l;
  bool operator==(const numbers&) const = default;
};

struct floats {
  float f;
  double d;
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
  std::optional<std::vector<item>> maybe_items;
  std::vector<std::optional<std::string>> holes;
  std::vector<std::vector<std::int32_t>> nested;
  bool operator==(const containers&) const = default;
};

struct ping {
  std::int32_t n;
  bool operator==(const ping&) const = default;
};

struct named {
  static constexpr std::string_view coactor_name = "test.named";
  std::string name;
  bool operator==(const named&) const = default;
};

using choice_ok = std::variant<std::int32_t, std::string, ping, named, std::vector<std::uint8_t>, std::optional<ping>>;

struct with_variant {
  choice_ok v;
  bool operator==(const with_variant&) const = default;
};

struct with_pid {
  coactor::pid local;
  coactor::pid remote;
  coactor::pid none;
};

struct tree {
  std::string label;
  std::vector<tree> kids;
  bool operator==(const tree&) const = default;
};

struct order {
  std::int32_t id;
  std::vector<item> items;
  std::optional<std::string> note;
};

struct order_v2 {  // a newer sender: one more field
  std::int32_t id;
  std::vector<item> items;
  std::optional<std::string> note;
  std::string added;
};

struct fixed {
  std::array<std::uint8_t, 2> pair;
};

struct blob_holder {
  coactor::bytes blob;
};

struct deep_optional {
  std::optional<std::optional<int>> oo;
};

struct nothing {};

using by_string = std::map<std::string, int>;
using by_i32 = std::map<std::int32_t, int>;
using by_i64 = std::map<std::int64_t, int>;
using by_u8 = std::map<std::uint8_t, int>;
using by_u32 = std::map<std::uint32_t, int>;

}  // namespace json_test

using namespace coactor;
using namespace json_test;

namespace {

template <class T>
std::string to_json(const T& v, const wire_context& context = {}) {
  std::string out;
  auto r = json::encode(v, out, context);
  REQUIRE(r);
  return out;
}

template <class T>
T from_json(std::string_view text, const decode_limits& limits = {}, const wire_context& context = {}) {
  auto r = json::decode<T>(text, limits, context);
  if (!r) FAIL(r.error().message() << "\n  decoding: " << text);
  return *r;
}

template <class T>
T round_trip(const T& v, const wire_context& context = {}) {
  return from_json<T>(to_json(v, context), {}, context);
}

/// The failure of decoding `text` as T.
template <class T>
error failure(std::string_view text, const decode_limits& limits = {}) {
  auto r = json::decode<T>(text, limits);
  if (r) FAIL("decoded without error: " << text.substr(0, 200));
  return r.error();
}

#define CHECK_FAILS(T, text, code, what)               \
  do {                                                 \
    const error e_ = failure<T>(text);                 \
    CHECK(e_ == (code));                               \
    CHECK_THAT(e_.detail(), Catch::Contains(what));    \
  } while (0)

bool same_bits(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }
bool same_bits(float a, float b) { return std::memcmp(&a, &b, sizeof a) == 0; }

}  // namespace

// ---- the text ----

TEST_CASE("json: the text of a small struct is pinned", "[codec][json]") {
  const order o{7, {{"tea", 2.5}, {"cake \"big\"", 4.0}}, std::nullopt};
  CHECK(to_json(o) == R"({"id":7,"items":[{"name":"tea","price":2.5},{"name":"cake \"big\"","price":4.0}],"note":null})");

  const numbers n{true, false, -8, -16, -32, -64, 8, 16, 32, 64, color::green, level::high};
  CHECK(to_json(n) ==
        R"({"yes":true,"no":false,"i8":-8,"i16":-16,"i32":-32,"i64":-64,"u8":8,"u16":16,"u32":32,"u64":64,"c":7,"l":5})");

  containers c{};
  c.text = "a\"b\\c\n\x01\x1f\x7f é 😀";
  c.blob = {std::byte{0}, std::byte{0xff}};
  c.by_i64 = {{-3, "x"}, {10, "y"}};
  c.maybe = 0;
  CHECK(to_json(c) ==
        "{\"text\":\"a\\\"b\\\\c\\u000a\\u0001\\u001f\x7f é 😀\",\"blob\":\"AP8=\",\"list\":[],\"words\":[],"
        "\"triple\":[0,0,0],\"none\":[],\"by_name\":{},\"by_i64\":{\"-3\":\"x\",\"10\":\"y\"},\"by_u64\":{},"
        "\"by_i8\":{},\"by_u16\":{},\"maybe\":0,\"nothing\":null,\"maybe_items\":null,\"holes\":[],\"nested\":[]}");
}

TEST_CASE("json: top-level values that are not structs", "[codec][json]") {
  CHECK(to_json(std::string("hi")) == R"("hi")");
  CHECK(from_json<std::string>(R"("hi")") == "hi");
  CHECK(to_json(std::int32_t{-5}) == "-5");
  CHECK(from_json<std::int32_t>(" -5 ") == -5);
  CHECK(to_json(std::vector<bool>{true, false}) == "[true,false]");
  CHECK(from_json<std::vector<bool>>("[true,false]") == std::vector<bool>{true, false});
  CHECK(to_json(std::optional<int>{}) == "null");
  CHECK(to_json(pid{}) == "null");
  CHECK(to_json(ping{3}) == R"({"n":3})");
  CHECK(to_json(nothing{}) == "{}");
  CHECK(json::decode<nothing>(R"({"anything":[1]})"));
}

// ---- round trips ----

TEST_CASE("json: integers and enums round trip at their limits", "[codec][json]") {
  using lim8 = std::numeric_limits<std::int8_t>;
  using lim16 = std::numeric_limits<std::int16_t>;
  using lim32 = std::numeric_limits<std::int32_t>;
  using lim64 = std::numeric_limits<std::int64_t>;
  const numbers lows{false, false, lim8::min(), lim16::min(), lim32::min(), lim64::min(), 0, 0, 0, 0, color::red,
                     level::low};
  const numbers highs{true, true, lim8::max(), lim16::max(), lim32::max(), lim64::max(), 255, 65535, 4294967295u,
                      std::numeric_limits<std::uint64_t>::max(), static_cast<color>(255), level::high};
  CHECK(round_trip(lows) == lows);
  CHECK(round_trip(highs) == highs);
  CHECK_THAT(to_json(lows), Catch::Contains("\"i64\":-9223372036854775808"));
  CHECK_THAT(to_json(highs), Catch::Contains("\"u64\":18446744073709551615"));
  CHECK_THAT(to_json(lows), Catch::Contains("\"l\":-9223372036854775808"));
}

TEST_CASE("json: floating point round trips, NaN and infinities included", "[codec][json]") {
  const double doubles[] = {0.0, -0.0, 1.0, -1.5, 0.1, 1e300, -1e-300, 5e-324, std::numeric_limits<double>::max(),
                            std::numeric_limits<double>::min(), 123456789012345678.0, 3.141592653589793};
  const float singles[] = {0.0f, -0.0f, 0.1f, 3.4028235e38f, 1e-45f, 1.17549435e-38f, 16777217.0f, 2.5f};
  for (double d : doubles) {
    const floats out = round_trip(floats{1.0f, d});
    CHECK(same_bits(out.d, d));
  }
  for (float f : singles) {
    const floats out = round_trip(floats{f, 1.0});
    CHECK(same_bits(out.f, f));
  }
  const floats special = round_trip(floats{std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<double>::infinity()});
  CHECK(std::isnan(special.f));
  CHECK(special.d == std::numeric_limits<double>::infinity());
  CHECK(round_trip(floats{-std::numeric_limits<float>::infinity(), std::nan("")}).f == -std::numeric_limits<float>::infinity());
  CHECK(std::isnan(round_trip(floats{0, std::nan("")}).d));

  CHECK(to_json(floats{0.1f, 0.1}) == R"({"f":0.1,"d":0.1})");  // shortest text for each type
  CHECK(to_json(floats{1.0f, -0.0}) == R"({"f":1.0,"d":-0.0})");
  CHECK(to_json(floats{std::numeric_limits<float>::infinity(), -std::numeric_limits<double>::infinity()}) ==
        R"({"f":"Infinity","d":"-Infinity"})");
  CHECK(to_json(floats{std::nanf(""), 1e300}) == R"({"f":"NaN","d":1e+300})");

  // Accepted too: integers (of any size) and the three strings.
  const floats in = from_json<floats>(R"({"f":3,"d":-18446744073709551616})");
  CHECK(in.f == 3.0f);
  CHECK(in.d == -18446744073709551616.0);
  CHECK(std::isnan(from_json<floats>(R"({"f":"NaN","d":1e-400})").f));
  CHECK(from_json<floats>(R"({"f":1,"d":1e-400})").d == 0.0);  // underflow is not an error
}

TEST_CASE("json: random floating-point values round trip bit for bit", "[codec][json]") {
  std::mt19937_64 random(12345);
  for (int i = 0; i < 20000; ++i) {
    const std::uint64_t bits = random();
    double d;
    float f;
    std::memcpy(&d, &bits, sizeof d);
    const auto bits32 = static_cast<std::uint32_t>(bits >> 17);
    std::memcpy(&f, &bits32, sizeof f);
    const floats out = round_trip(floats{f, d});
    if (!std::isnan(d)) REQUIRE(same_bits(out.d, d));
    if (!std::isnan(f)) REQUIRE(same_bits(out.f, f));
  }
}

TEST_CASE("json: strings, bytes and containers round trip", "[codec][json]") {
  containers c{};
  static constexpr char text[] = "\0 nul, tab\t, quote \", backslash \\, é, 中文, 😀 𝄞, \x7f, end";
  c.text = std::string(text, sizeof text - 1);
  for (int b = 0; b < 256; ++b) c.blob.push_back(static_cast<std::byte>(b));
  c.list = {std::numeric_limits<std::int32_t>::min(), 0, std::numeric_limits<std::int32_t>::max()};
  c.words = {"", "one", "ünïcödé"};
  c.triple = {-1, 0, 1};
  c.by_name = {{"", 0}, {"a", 1}, {"é\"", 2}};
  c.by_i64 = {{std::numeric_limits<std::int64_t>::min(), "min"}, {0, "zero"}, {std::numeric_limits<std::int64_t>::max(), "max"}};
  c.by_u64 = {{0, false}, {std::numeric_limits<std::uint64_t>::max(), true}};
  c.by_i8 = {{-128, 0}, {127, 255}};
  c.by_u16 = {{0, {"zero", 0.0}}, {65535, {"max", -1.0}}};
  c.maybe = -1;
  c.maybe_items = std::vector<item>{{"x", 1.0}};
  c.holes = {std::nullopt, "here", std::nullopt};
  c.nested = {{}, {1}, {2, 3}};
  CHECK(round_trip(c) == c);
  CHECK(round_trip(containers{}) == containers{});  // every container empty
}

TEST_CASE("json: bytes are standard base64 with padding", "[codec][json]") {
  const std::pair<std::string, std::string> vectors[] = {  // RFC 4648, section 10
      {"", ""}, {"f", "Zg=="}, {"fo", "Zm8="}, {"foo", "Zm9v"}, {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="},
      {"foobar", "Zm9vYmFy"}};
  for (const auto& [plain, encoded] : vectors) {
    blob_holder b;
    for (char ch : plain) b.blob.push_back(static_cast<std::byte>(ch));
    CHECK(to_json(b) == "{\"blob\":\"" + encoded + "\"}");
    CHECK(from_json<blob_holder>("{\"blob\":\"" + encoded + "\"}").blob == b.blob);
  }
  blob_holder all;
  for (int i = 0; i < 256; ++i) all.blob.push_back(static_cast<std::byte>(255 - i));
  CHECK(round_trip(all).blob == all.blob);
  CHECK(from_json<blob_holder>(R"({"blob":"+/8="})").blob == coactor::bytes{std::byte{0xfb}, std::byte{0xff}});
}

TEST_CASE("json: nested and recursive structs round trip", "[codec][json]") {
  tree t{"root", {{"a", {}}, {"b", {{"b1", {}}, {"b2", {{"deep", {}}}}}}}};
  CHECK(to_json(tree{"x", {{"y", {}}}}) == R"({"label":"x","kids":[{"label":"y","kids":[]}]})");
  CHECK(round_trip(t) == t);

  tree chain{"0", {}};
  tree* at = &chain;
  for (int i = 1; i < 20; ++i) {
    at->kids.push_back({std::to_string(i), {}});
    at = &at->kids.back();
  }
  CHECK(round_trip(chain) == chain);  // 40 levels: each tree and each vector counts
}

TEST_CASE("json: variants are keyed by the alternative's wire name", "[codec][json]") {
  CHECK(to_json(with_variant{std::int32_t{5}}) == R"({"v":{"i32":5}})");
  CHECK(to_json(with_variant{std::string("s")}) == R"({"v":{"string":"s"}})");
  CHECK(to_json(with_variant{ping{1}}) == R"({"v":{"json_test::ping":{"n":1}}})");
  CHECK(to_json(with_variant{named{"n"}}) == R"({"v":{"test.named":{"name":"n"}}})");
  CHECK(to_json(with_variant{std::vector<std::uint8_t>{1, 2}}) == R"({"v":{"vector<u8>":[1,2]}})");
  CHECK(to_json(with_variant{std::optional<ping>{}}) == R"({"v":{"optional<json_test::ping>":null}})");
  for (const choice_ok& v : {choice_ok{std::int32_t{-7}}, choice_ok{std::string("é")}, choice_ok{ping{2}},
                             choice_ok{named{"x"}}, choice_ok{std::vector<std::uint8_t>{}},
                             choice_ok{std::optional<ping>{ping{3}}}, choice_ok{std::optional<ping>{}}}) {
    const with_variant out = round_trip(with_variant{v});
    CHECK(out.v.index() == v.index());
    CHECK(out == with_variant{v});
  }
}

TEST_CASE("json: pids travel in their string form", "[codec][json]") {
  const wire_context here{0x9f2c41d07a33e001ull, "127.0.0.1:9000"};
  const pid local(0x9f2c41d07a33e001ull, 0x5be0c2d1948f7a16ull, 0x2a);
  const pid remote = *pid::parse("coactor://10.0.0.2:7000/pid/abc.1.def");
  const std::string text = to_json(with_pid{local, remote, pid{}}, here);
  CHECK(text ==
        R"({"local":"coactor://127.0.0.1:9000/pid/9f2c41d07a33e001.2a.5be0c2d1948f7a16",)"
        R"("remote":"coactor://10.0.0.2:7000/pid/abc.1.def","none":null})");
  CHECK(text.find(local.to_string("127.0.0.1:9000")) != std::string::npos);  // the same as pid::to_string

  const with_pid back = from_json<with_pid>(text, {}, here);
  CHECK(back.local == local);
  CHECK(back.local.address().empty());  // a pid of this node comes back without an address
  CHECK(back.remote == remote);
  CHECK(back.remote.address() == "10.0.0.2:7000");
  CHECK(back.none.is_null());

  // Decoded on another node, the first pid is a remote one with its address.
  const with_pid elsewhere = from_json<with_pid>(text, {}, {0x1234, "10.0.0.9:1"});
  CHECK(elsewhere.local == local);
  CHECK(elsewhere.local.address() == "127.0.0.1:9000");
}

TEST_CASE("json: process names travel in their string form", "[codec][json]") {
  const process_name logger{"127.0.0.1:9000", "logger"};
  CHECK(to_json(logger) == R"("coactor://127.0.0.1:9000/name/logger")");
  CHECK(round_trip(logger) == logger);
  CHECK(round_trip(process_name{"", "here"}) == process_name{"", "here"});
  CHECK_FAILS(process_name, R"("logger")", errc::bad_message, "not a process name");
  CHECK_FAILS(process_name, R"(42)", errc::bad_message, "a process name (string)");
}

TEST_CASE("json: structs tolerate unknown members, members out of order and missing optionals", "[codec][json]") {
  const order_v2 newer{1, {{"x", 1.0}}, "n", "extra"};
  const order o = from_json<order>(to_json(newer));
  CHECK(o.id == 1);
  CHECK(o.items == newer.items);
  CHECK(o.note == "n");

  const order reordered = from_json<order>(
      R"({"unknown":{"deep":[1,2,{"x":null}]},"items":[],"note":"z","id":3,"more":"\ud83d\ude00"})");
  CHECK(reordered.id == 3);
  CHECK(reordered.note == "z");

  const order missing = from_json<order>(R"({"items":[],"id":4})");
  CHECK_FALSE(missing.note.has_value());

  // An empty inner optional reads back as an empty outer one (both are null).
  CHECK(to_json(deep_optional{std::optional<int>{}}) == R"({"oo":null})");
  CHECK_FALSE(from_json<deep_optional>(R"({"oo":null})").oo.has_value());
  CHECK(from_json<deep_optional>(R"({"oo":5})").oo == std::optional<std::optional<int>>(5));
}

TEST_CASE("json: decode_into overwrites the value", "[codec][json]") {
  containers c{};
  c.list = {1, 2, 3};
  c.by_name = {{"old", 1}};
  c.maybe = 9;
  REQUIRE(json::decode_into(to_json(containers{}), c));
  CHECK(c == containers{});
}

// ---- hostile input ----

TEST_CASE("json: truncated input is an error at every cut", "[codec][json][hostile]") {
  containers c{};
  c.text = "text é";
  c.blob = {std::byte{1}, std::byte{2}};
  c.list = {1, 2};
  c.by_i64 = {{-1, "x"}};
  c.maybe = 5;
  const std::string text = to_json(c);
  for (std::size_t cut = 0; cut < text.size(); ++cut) {
    auto r = json::decode<containers>(std::string_view(text).substr(0, cut));
    REQUIRE_FALSE(r);
    CHECK(r.error() == errc::bad_message);
  }
  CHECK_FAILS(containers, "", errc::bad_message, "json_test::containers: invalid JSON at byte 0: syntax error while parsing value - unexpected end of input");
  CHECK_FAILS(order, R"({"id":1,"items":[)", errc::bad_message, "json_test::order: invalid JSON at byte 17");
}

TEST_CASE("json: wrong types name the field and what was found", "[codec][json][hostile]") {
  CHECK_FAILS(order, R"([1])", errc::bad_message, "json_test::order: expected an object, got array");
  CHECK_FAILS(order, R"({"id":"7","items":[]})", errc::bad_message, "json_test::order.id: expected an integer, got string");
  CHECK_FAILS(order, R"({"id":null,"items":[]})", errc::bad_message, "json_test::order.id: expected an integer, got null");
  CHECK_FAILS(order, R"({"id":1,"items":{}})", errc::bad_message, "json_test::order.items: expected an array, got object");
  CHECK_FAILS(order, R"({"id":1,"items":[{"name":"a","price":1},{"name":"b","price":"x"}]})", errc::bad_message,
              "json_test::order.items[1].price: expected a number, got string");
  CHECK_FAILS(order, R"({"id":1,"items":[{"name":5,"price":1}]})", errc::bad_message,
              "json_test::order.items[0].name: expected a string, got integer 5");
  CHECK_FAILS(numbers, R"({"yes":1})", errc::bad_message, "json_test::numbers.yes: expected true or false, got integer 1");
  CHECK_FAILS(with_pid, R"({"local":5})", errc::bad_message, "json_test::with_pid.local: expected a pid (string) or null, got integer 5");
  CHECK_FAILS(with_pid, R"({"local":"coactor://x/pid/0.1.2","remote":null,"none":null})", errc::bad_message,
              "json_test::with_pid.local: not a pid");
  CHECK_FAILS(containers, R"({"text":"","blob":5})", errc::bad_message, "json_test::containers.blob: expected a base64 string, got integer 5");
  CHECK_FAILS(std::string, "true", errc::bad_message, "string: expected a string, got true");
  CHECK_FAILS(floats, R"({"f":"inf","d":0})", errc::bad_message, "json_test::floats.f: expected a number, got string \"inf\"");
}

TEST_CASE("json: integers out of range and non-integers are refused", "[codec][json][hostile]") {
  CHECK_FAILS(std::uint8_t, "256", errc::bad_message, "u8: 256 is out of range for u8 [0, 255]");
  CHECK_FAILS(std::uint8_t, "-1", errc::bad_message, "u8: -1 is out of range for u8 [0, 255]");
  CHECK_FAILS(std::int8_t, "-129", errc::bad_message, "i8: -129 is out of range for i8 [-128, 127]");
  CHECK_FAILS(std::int32_t, "2147483648", errc::bad_message, "2147483648 is out of range for i32 [-2147483648, 2147483647]");
  CHECK_FAILS(std::uint64_t, "18446744073709551616", errc::bad_message,
              "18446744073709551616 is out of range for u64 [0, 18446744073709551615]");
  CHECK_FAILS(std::int64_t, "-9223372036854775809", errc::bad_message,
              "-9223372036854775809 is out of range for i64 [-9223372036854775808, 9223372036854775807]");
  CHECK_FAILS(std::int64_t, "9223372036854775808", errc::bad_message, "is out of range for i64");
  CHECK_FAILS(numbers, R"({"yes":true,"no":true,"i8":0,"i16":0,"i32":0,"i64":0,"u8":0,"u16":0,"u32":0,"u64":0,"c":256,"l":0})",
              errc::bad_message, "json_test::numbers.c: 256 is out of range for u8 [0, 255]");
  CHECK_FAILS(std::int32_t, "1.5", errc::bad_message, "i32: expected an integer, got number 1.5");
  CHECK_FAILS(std::int32_t, "1.0", errc::bad_message, "expected an integer, got number 1.0");
  CHECK_FAILS(std::int32_t, "1e3", errc::bad_message, "expected an integer, got number 1000.0");
  CHECK_FAILS(order, R"({"id":7.25,"items":[]})", errc::bad_message, "json_test::order.id: expected an integer, got number 7.25");
  CHECK_FAILS(floats, R"({"f":1e39,"d":0})", errc::bad_message, "json_test::floats.f: 1e+39 is out of range for f32");
  CHECK_FAILS(double, "1e400", errc::bad_message, "invalid JSON at byte 4: number overflow parsing '1e400'");
  CHECK_FAILS(by_u8, R"({"256":1})", errc::bad_message, "map key 256 is out of range for u8 [0, 255]");
}

TEST_CASE("json: invalid UTF-8 and lone surrogates are refused", "[codec][json][hostile]") {
  CHECK_FAILS(std::string, "\"ab\xff\"", errc::bad_message, "invalid JSON at byte 3: syntax error while parsing value - invalid string: ill-formed UTF-8 byte");
  CHECK_FAILS(std::string, "\"\xc0\xaf\"", errc::bad_message, "ill-formed UTF-8 byte");   // overlong '/'
  CHECK_FAILS(std::string, "\"\xed\xa0\x80\"", errc::bad_message, "ill-formed UTF-8 byte");  // encoded surrogate
  CHECK_FAILS(std::string, "\"\xf4\x90\x80\x80\"", errc::bad_message, "ill-formed UTF-8 byte");  // above U+10FFFF
  CHECK_FAILS(std::string, R"("\ud800")", errc::bad_message, "surrogate U+D800..U+DBFF must be followed by U+DC00..U+DFFF");
  CHECK_FAILS(std::string, R"("\udc00")", errc::bad_message, "surrogate U+DC00..U+DFFF must follow U+D800..U+DBFF");
  CHECK_FAILS(std::string, R"("\ud800\u0041")", errc::bad_message, "surrogate U+D800..U+DBFF must be followed by U+DC00..U+DFFF");
  CHECK_FAILS(std::string, "\"a\x01\"", errc::bad_message, "control character U+0001 (SOH) must be escaped");
  CHECK(from_json<std::string>(R"("\ud83d\ude00\u00e9\n\/")") == "😀é\n/");
  // The error text never carries the invalid bytes themselves.
  const error e = failure<std::string>("\"\xff\xfe\"");
  CHECK(coactor::detail::invalid_utf8_at(e.detail()) == std::string_view::npos);
}

TEST_CASE("json: encoding a string that is not UTF-8 fails and leaves the output alone", "[codec][json][hostile]") {
  order o{1, {{"fine", 1.0}, {"bad\xc3", 2.0}}, std::nullopt};
  std::string out = "keep";
  auto r = json::encode(o, out);
  REQUIRE_FALSE(r);
  CHECK(r.error() == errc::bad_message);
  CHECK(r.error().detail() == "json_test::order.items[1].name: invalid UTF-8 at byte 3 of a string");
  CHECK(out == "keep");

  std::map<std::string, int> m{{"\xff", 1}};
  auto rk = json::encode(m, out);
  REQUIRE_FALSE(rk);
  CHECK_THAT(rk.error().detail(), Catch::Contains("invalid UTF-8 at byte 0"));
}

TEST_CASE("json: nesting deeper than max_depth is refused without recursion", "[codec][json][hostile]") {
  const std::string arrays(100000, '[');
  CHECK_FAILS(tree, arrays, errc::too_large, "json_test::tree: nested deeper than 64 levels");
  std::string objects;
  for (int i = 0; i < 100000; ++i) objects += "{\"a\":";
  CHECK_FAILS(order, objects, errc::too_large, "nested deeper than 64 levels");
  // Also inside a member the struct does not know.
  CHECK_FAILS(order, R"({"id":1,"items":[],"x":)" + arrays, errc::too_large, "nested deeper than 64 levels");

  // The struct walk counts levels too (a tree and its vector are one level each).
  tree t{"0", {{"1", {{"2", {}}}}}};
  decode_limits shallow;
  shallow.max_depth = 4;
  CHECK(json::decode<tree>(to_json(tree{"0", {{"1", {}}}}), shallow));
  const error e = failure<tree>(to_json(t), shallow);
  CHECK(e == errc::too_large);
  CHECK_THAT(e.detail(), Catch::Contains("nested deeper than 4 levels"));
}

TEST_CASE("json: input and allocation limits", "[codec][json][hostile]") {
  decode_limits small_input;
  small_input.max_message_bytes = 10;
  CHECK(json::decode<std::string>(R"("12345678")", small_input));
  const error big = failure<std::string>(R"("123456789")", small_input);
  CHECK(big == errc::too_large);
  CHECK(big.detail() == "string: message of 11 bytes exceeds the limit of 10");

  decode_limits tight;
  tight.max_allocation = 1000;
  CHECK(json::decode<std::string>("\"" + std::string(400, 'x') + "\"", tight));  // document and string: 824 bytes
  const error text = failure<std::string>("\"" + std::string(2000, 'x') + "\"", tight);
  CHECK(text == errc::too_large);
  CHECK_THAT(text.detail(), Catch::Contains("decoded content exceeds 1000 bytes"));
  // Many small values: every value counts, even ignored ones.
  std::string many = R"({"id":1,"items":[],"ignored":[)";
  for (int i = 0; i < 1000; ++i) many += "0,";
  many += "0]}";
  decode_limits some;
  some.max_allocation = 10000;
  REQUIRE(json::decode<order>(R"({"id":1,"items":[],"ignored":[0,0,0]})", some));
  const error values = failure<order>(many, some);
  CHECK(values == errc::too_large);
  CHECK_THAT(values.detail(), Catch::Contains("json_test::order: decoded content exceeds 10000 bytes"));
  // The decoded containers count too: 100 empty objects become 100 items of sizeof(item) each.
  std::string items = R"({"id":1,"items":[)";
  for (int i = 0; i < 100; ++i) items += R"({"name":"","price":0},)";
  items += R"({"name":"","price":0}]})";
  decode_limits budget;
  budget.max_allocation = 2500 + 50 * sizeof(item);  // the document fits, the items do not
  const error decoded = failure<order>(items, budget);
  CHECK(decoded == errc::too_large);
  CHECK_THAT(decoded.detail(), Catch::Contains("decoded content exceeds"));
}

TEST_CASE("json: unknown variant alternatives and malformed variants", "[codec][json][hostile]") {
  CHECK_FAILS(with_variant, R"({"v":{"app::nope":{}}})", errc::unknown_type,
              "json_test::with_variant.v: unknown variant alternative \"app::nope\" (expected one of: i32, string, "
              "json_test::ping, test.named, vector<u8>, optional<json_test::ping>)");
  CHECK_FAILS(with_variant, R"({"v":{}})", errc::bad_message, "expected an object with exactly one member");
  CHECK_FAILS(with_variant, R"({"v":{"i32":1,"string":"x"}})", errc::bad_message, "got 2 members");
  CHECK_FAILS(with_variant, R"({"v":5})", errc::bad_message, "json_test::with_variant.v: expected an object naming the variant alternative, got integer 5");
  CHECK_FAILS(with_variant, R"({"v":{"json_test::ping":{"n":"x"}}})", errc::bad_message,
              "json_test::with_variant.v[\"json_test::ping\"].n: expected an integer, got string");
}

TEST_CASE("json: missing and repeated members", "[codec][json][hostile]") {
  CHECK_FAILS(order, R"({"items":[]})", errc::bad_message, "json_test::order: missing field 'id'");
  CHECK_FAILS(order, R"({"id":1,"items":[{"name":"a"}]})", errc::bad_message, "json_test::order.items[0]: missing field 'price'");
  CHECK_FAILS(order, R"({"id":1,"items":[],"id":2})", errc::bad_message, "json_test::order: field 'id' given twice");
  CHECK_FAILS(by_string, R"({"a":1,"a":2})", errc::bad_message, "[\"a\"]: duplicate map key");
  CHECK_FAILS(by_i32, R"({"1":1,"01":2})", errc::bad_message,
              "map key \"01\" is not an integer (i32) in decimal");
  CHECK_FAILS(by_i32, R"({"x":1})", errc::bad_message, "map key \"x\" is not an integer");
  CHECK_FAILS(by_i32, R"({"-0":1})", errc::bad_message, "is not an integer");
  CHECK_FAILS(by_i32, R"({"+1":1})", errc::bad_message, "is not an integer");
  CHECK_FAILS(by_i32, R"({" 1":1})", errc::bad_message, "is not an integer");
  CHECK_FAILS(by_i64, R"({"-9223372036854775809":1})", errc::bad_message,
              "map key -9223372036854775809 is out of range for i64");
  CHECK_FAILS(by_u32, R"({"-1":1})", errc::bad_message, "map key -1 is out of range for u32 [0, 4294967295]");
  CHECK_FAILS(by_i32, R"({"5":"x"})", errc::bad_message, "map<i32,i32>[\"5\"]: expected an integer, got string");
  CHECK(from_json<by_i64>(R"({"-9223372036854775808":1,"0":2})").size() == 2);
}

TEST_CASE("json: bad base64 is refused", "[codec][json][hostile]") {
  CHECK_FAILS(blob_holder, R"({"blob":"Zg="})", errc::bad_message, "json_test::blob_holder.blob: invalid base64: length 3 is not a multiple of 4");
  CHECK_FAILS(blob_holder, R"({"blob":"Zg!="})", errc::bad_message, "invalid base64: character 2 is not in the base64 alphabet");
  CHECK_FAILS(blob_holder, R"({"blob":"Z=g="})", errc::bad_message, "invalid base64: '=' before the end, at character 1");
  CHECK_FAILS(blob_holder, R"({"blob":"Zg==Zg=="})", errc::bad_message, "invalid base64: '=' before the end");
  CHECK_FAILS(blob_holder, R"({"blob":"Zh=="})", errc::bad_message, "invalid base64: non-zero padding bits");
  CHECK_FAILS(blob_holder, R"({"blob":"Zm9="})", errc::bad_message, "invalid base64: non-zero padding bits");
  CHECK_FAILS(blob_holder, R"({"blob":"Zm9v\n"})", errc::bad_message, "invalid base64");
  CHECK_FAILS(blob_holder, R"({"blob":"Zm-_"})", errc::bad_message, "not in the base64 alphabet");  // base64url
  CHECK_FAILS(blob_holder, R"({"blob":"===="})", errc::bad_message, "invalid base64");
}

TEST_CASE("json: std::array needs exactly its length", "[codec][json][hostile]") {
  CHECK(from_json<fixed>(R"({"pair":[1,2]})").pair == std::array<std::uint8_t, 2>{1, 2});
  CHECK_FAILS(fixed, R"({"pair":[1]})", errc::bad_message, "json_test::fixed.pair: expected an array of 2 elements, got 1");
  CHECK_FAILS(fixed, R"({"pair":[1,2,3]})", errc::bad_message, "expected an array of 2 elements, got 3");
  CHECK_FAILS(fixed, R"({"pair":[1,256]})", errc::bad_message, "json_test::fixed.pair[1]: 256 is out of range for u8");
}

TEST_CASE("json: trailing garbage and other syntax errors", "[codec][json][hostile]") {
  CHECK_FAILS(ping, R"({"n":1} x)", errc::bad_message, "json_test::ping: invalid JSON at byte 8: syntax error while parsing value - invalid literal");
  CHECK_FAILS(ping, R"({"n":1}{})", errc::bad_message, "expected end of input");
  CHECK_FAILS(ping, R"({"n":1,})", errc::bad_message, "invalid JSON");
  CHECK_FAILS(ping, R"({'n':1})", errc::bad_message, "invalid JSON");
  CHECK_FAILS(ping, R"({"n":01})", errc::bad_message, "invalid JSON");
  CHECK_FAILS(ping, R"({"n":1 /* c */})", errc::bad_message, "invalid JSON");
  CHECK_FAILS(ping, R"({"n":NaN})", errc::bad_message, "invalid JSON");
  CHECK_FAILS(ping, std::string("{\"n\":1}\0", 8), errc::bad_message, "invalid JSON at byte 7: NUL byte");
  CHECK_FAILS(ping, std::string("{\"n\":1}\0{}", 10), errc::bad_message, "invalid JSON at byte 7: NUL byte");
  CHECK_FAILS(std::string, std::string("\"a\0\"", 4), errc::bad_message, "invalid JSON at byte 2: NUL byte");
  CHECK(from_json<ping>("\xEF\xBB\xBF {\"n\":1}\r\n\t").n == 1);  // a byte order mark and whitespace
  CHECK_FAILS(ping, "{\"n\":1}\xEF\xBB\xBF", errc::bad_message, "invalid JSON at byte 7");
  // A long bad token is shortened in the message.
  const error e = failure<std::string>("\"" + std::string(100000, 'a') + "\x01\"");
  CHECK(e.detail().size() < 300);
}

// ---- reformat ----

TEST_CASE("json: reformat prints any JSON compact or indented", "[codec][json][reformat]") {
  const std::string text = R"( { "b" : [1, -2, 1.50, 1e2, true, null, {}, [], "x\u0041\n"], "a" : {"k": 18446744073709551616} } )";
  auto compact = json::reformat(text);
  REQUIRE(compact);
  CHECK(*compact == R"({"b":[1,-2,1.5,100.0,true,null,{},[],"xA\u000a"],"a":{"k":18446744073709551616}})");
  auto indented = json::reformat(text, 2);
  REQUIRE(indented);
  CHECK(*indented == "{\n  \"b\": [\n    1,\n    -2,\n    1.5,\n    100.0,\n    true,\n    null,\n    {},\n    [],\n"
                     "    \"xA\\u000a\"\n  ],\n  \"a\": {\n    \"k\": 18446744073709551616\n  }\n}");
  CHECK(*json::reformat("5", 4) == "5");

  auto bad = json::reformat("[1,");
  REQUIRE_FALSE(bad);
  CHECK(bad.error() == errc::bad_message);
  CHECK_THAT(bad.error().detail(), Catch::StartsWith("invalid JSON at byte 3: "));
  decode_limits shallow;
  shallow.max_depth = 2;
  auto deep = json::reformat("[[[1]]]", -1, shallow);
  REQUIRE_FALSE(deep);
  CHECK(deep.error() == errc::too_large);
  CHECK(deep.error().detail() == "nested deeper than 2 levels");
}
