// Wire names (type_name.hpp) and field names (reflect.hpp). These are part of the protocol: a g++ node and
// a clang node must spell them identically (tests/codec/cross_compiler checks the two compilers agree;
// this file pins what the names are).
#include <coactor/pid.hpp>
#include <coactor/reflect.hpp>
#include <coactor/type_name.hpp>

#include <catch2/catch.hpp>

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <variant>
#include <vector>

namespace type_name_test {

struct ping {
  std::int32_t count;
  std::string text;
};

struct nothing {};

enum class color : std::uint8_t { red };
enum plain_enum { plain_a, plain_b };

struct outer {
  struct inner {
    bool flag;
  };
  inner in;
};

template <class T>
struct box {
  T value;
};

template <class A, class B>
struct pair_of {
  A first;
  B second;
};

struct named {
  static constexpr std::string_view coactor_name = "demo.named";
  int n;
};

struct odd_fields {
  int _leading;
  int trailing_;
  int camelCase;
  int x1;
  int _9;
  std::map<std::int32_t, std::vector<std::string>> templated;
  box<box<int>> boxed;
  std::array<std::uint8_t, 4> arr;
};

namespace deeper::still {
struct here {
  double d;
};
}  // namespace deeper::still

namespace {
struct hidden {
  int a;
  std::string b;
};
enum class hidden_enum { x };
}  // namespace

}  // namespace type_name_test

namespace lib {
struct point {  // a type we "cannot change": named by specialising coactor::wire_name
  int x;
  int y;
};
}  // namespace lib

template <>
struct coactor::wire_name<lib::point> {
  static constexpr std::string_view value = "geo.point";
};

using namespace coactor;
using namespace type_name_test;

TEST_CASE("type_name: scalars and library types", "[codec][type_name]") {
  CHECK(type_name<bool>() == "bool");
  CHECK(type_name<std::int8_t>() == "i8");
  CHECK(type_name<std::int16_t>() == "i16");
  CHECK(type_name<std::int32_t>() == "i32");
  CHECK(type_name<std::int64_t>() == "i64");
  CHECK(type_name<std::uint8_t>() == "u8");
  CHECK(type_name<std::uint16_t>() == "u16");
  CHECK(type_name<std::uint32_t>() == "u32");
  CHECK(type_name<std::uint64_t>() == "u64");
  // Named by size and signedness, not by spelling: long and long long are both i64 on LP64.
  CHECK(type_name<signed char>() == "i8");
  CHECK(type_name<unsigned char>() == "u8");
  CHECK(type_name<short>() == "i16");
  CHECK(type_name<unsigned short>() == "u16");
  CHECK(type_name<long>() == "i64");
  CHECK(type_name<long long>() == "i64");
  CHECK(type_name<unsigned long>() == "u64");
  CHECK(type_name<unsigned long long>() == "u64");
  CHECK(type_name<char16_t>() == "u16");
  CHECK(type_name<char32_t>() == "u32");
  CHECK(type_name<float>() == "f32");
  CHECK(type_name<double>() == "f64");
  CHECK(type_name<std::string>() == "string");
  CHECK(type_name<bytes>() == "bytes");
  CHECK(type_name<pid>() == "pid");
  // cv-qualifiers do not change the name
  CHECK(type_name<const std::int32_t>() == "i32");
  CHECK(type_name<const volatile std::string>() == "string");
}

TEST_CASE("type_name: containers, nested templates", "[codec][type_name]") {
  CHECK(type_name<std::vector<std::int32_t>>() == "vector<i32>");
  CHECK(type_name<std::vector<std::vector<std::string>>>() == "vector<vector<string>>");
  CHECK(type_name<std::vector<bool>>() == "vector<bool>");
  CHECK(type_name<std::array<std::uint8_t, 16>>() == "array<u8,16>");
  CHECK(type_name<std::array<double, 0>>() == "array<f64,0>");
  CHECK(type_name<std::array<std::array<bool, 2>, 1000000>>() == "array<array<bool,2>,1000000>");
  CHECK(type_name<std::map<std::string, std::vector<std::int64_t>>>() == "map<string,vector<i64>>");
  CHECK(type_name<std::unordered_map<std::uint32_t, bool>>() == "map<u32,bool>");
  CHECK(type_name<std::optional<pid>>() == "optional<pid>");
  CHECK(type_name<std::optional<std::optional<std::int8_t>>>() == "optional<optional<i8>>");
  CHECK(type_name<std::variant<std::int32_t>>() == "variant<i32>");
  CHECK(type_name<std::variant<std::int32_t, std::string, std::optional<double>>>() ==
        "variant<i32,string,optional<f64>>");
  CHECK(type_name<std::vector<ping>>() == "vector<type_name_test::ping>");
  CHECK(type_name<std::map<std::int64_t, std::variant<ping, named, lib::point>>>() ==
        "map<i64,variant<type_name_test::ping,demo.named,geo.point>>");
}

TEST_CASE("type_name: user structs and enums by their qualified name", "[codec][type_name]") {
  CHECK(type_name<ping>() == "type_name_test::ping");
  CHECK(type_name<const ping>() == "type_name_test::ping");
  CHECK(type_name<nothing>() == "type_name_test::nothing");
  CHECK(type_name<color>() == "type_name_test::color");
  CHECK(type_name<plain_enum>() == "type_name_test::plain_enum");
  CHECK(type_name<outer>() == "type_name_test::outer");
  CHECK(type_name<outer::inner>() == "type_name_test::outer::inner");
  CHECK(type_name<deeper::still::here>() == "type_name_test::deeper::still::here");
}

TEST_CASE("type_name: class templates are spelled the same by every compiler", "[codec][type_name]") {
  CHECK(type_name<box<int>>() == "type_name_test::box<int>");
  CHECK(type_name<box<bool>>() == "type_name_test::box<bool>");
  // g++ says "long int", "long long unsigned int", "short unsigned int"; clang says "long", ...
  CHECK(type_name<box<long>>() == "type_name_test::box<long>");
  CHECK(type_name<box<unsigned long>>() == "type_name_test::box<unsigned long>");
  CHECK(type_name<box<long long>>() == "type_name_test::box<long long>");
  CHECK(type_name<box<unsigned long long>>() == "type_name_test::box<unsigned long long>");
  CHECK(type_name<box<short>>() == "type_name_test::box<short>");
  CHECK(type_name<box<unsigned short>>() == "type_name_test::box<unsigned short>");
  CHECK(type_name<box<unsigned int>>() == "type_name_test::box<unsigned int>");
  // g++ writes "> >" between closing brackets
  CHECK(type_name<box<box<int>>>() == "type_name_test::box<type_name_test::box<int>>");
  CHECK(type_name<box<box<box<long>>>>() ==
        "type_name_test::box<type_name_test::box<type_name_test::box<long>>>");
  // Arguments of a user template keep the compilers' common ", " (wire names of library types use ",").
  CHECK(type_name<pair_of<ping, color>>() == "type_name_test::pair_of<type_name_test::ping, type_name_test::color>");
  // std::string inside a user template: libstdc++'s inline namespace std::__cxx11 is dropped
  CHECK(type_name<box<std::string>>() == "type_name_test::box<std::basic_string<char>>");
  // The user template's argument is spelled the C++ way, not with wire names.
  CHECK(type_name<box<std::vector<int>>>() == "type_name_test::box<std::vector<int>>");
}

TEST_CASE("type_name: explicit names", "[codec][type_name]") {
  CHECK(type_name<named>() == "demo.named");
  CHECK(type_name<lib::point>() == "geo.point");
  CHECK(type_name<const lib::point>() == "geo.point");
  CHECK(type_name<std::vector<named>>() == "vector<demo.named>");
  CHECK(type_name<std::optional<lib::point>>() == "optional<geo.point>");
}

TEST_CASE("type_name: types in an anonymous namespace", "[codec][type_name]") {
  // g++ says "{anonymous}", clang "(anonymous namespace)": both become the latter.
  CHECK(type_name<hidden>() == "type_name_test::(anonymous namespace)::hidden");
  CHECK(type_name<hidden_enum>() == "type_name_test::(anonymous namespace)::hidden_enum");
  CHECK(type_name<std::vector<hidden>>() == "vector<type_name_test::(anonymous namespace)::hidden>");
}

TEST_CASE("field names", "[codec][reflect]") {
  CHECK(field_count<ping> == 2);
  CHECK(field_names<ping> == std::array<std::string_view, 2>{"count", "text"});
  CHECK(field_name<ping, 0>() == "count");
  CHECK(field_name<ping, 1>() == "text");
  CHECK(field_count<nothing> == 0);
  CHECK(field_names<nothing>.empty());
  CHECK(field_names<outer> == std::array<std::string_view, 1>{"in"});
  CHECK(field_names<outer::inner> == std::array<std::string_view, 1>{"flag"});
  CHECK(field_names<named> == std::array<std::string_view, 1>{"n"});
  CHECK(field_names<lib::point> == std::array<std::string_view, 2>{"x", "y"});
  CHECK(field_names<deeper::still::here> == std::array<std::string_view, 1>{"d"});
  CHECK(field_names<odd_fields> == std::array<std::string_view, 8>{"_leading", "trailing_", "camelCase", "x1", "_9",
                                                                   "templated", "boxed", "arr"});
  CHECK(field_names<box<box<int>>> == std::array<std::string_view, 1>{"value"});
  CHECK(field_names<pair_of<ping, std::string>> == std::array<std::string_view, 2>{"first", "second"});
  // Names are compile-time constants.
  static_assert(field_name<ping, 1>() == "text");
  static_assert(field_names<lib::point>[1] == "y");
}

TEST_CASE("field names of types in an anonymous namespace are positional", "[codec][reflect]") {
  CHECK(field_names<hidden> == std::array<std::string_view, 2>{"_0", "_1"});
  CHECK(field_name<hidden, 1>() == "_1");
  // A template instantiated with such a type has no linkage either.
  CHECK(field_names<box<hidden>> == std::array<std::string_view, 1>{"_0"});
}
