// Prints the wire name (type_name.hpp) and the field names (reflect.hpp) of a fixed set of types, one
// type per line. Built by two compilers (g++ and clang) and run; the outputs must be identical, so that
// nodes built by either agree on every name (see tests/CMakeLists.txt, cmake/CoactorCrossCompiler.cmake).
// Header-only: needs coactor's include folder and Boost.PFR, nothing to link.
#include <coactor/pid.hpp>
#include <coactor/reflect.hpp>
#include <coactor/type_name.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <iostream>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <variant>
#include <vector>

namespace app {

struct ping {
  std::int32_t count;
  std::string text;
};
struct empty {};
enum class color : std::uint8_t { red, green };
enum plain { plain_a, plain_b };

struct outer {
  struct inner {
    bool flag;
    double _under_score;
  };
  inner in;
  std::vector<inner> more;
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
template <std::size_t N>
struct sized {
  std::array<std::uint8_t, N> data;
};
template <int N>
struct signed_value {
  int v;
};
template <bool B>
struct flagged {
  int v;
};
template <char C>
struct lettered {
  int v;
};
template <color C>
struct colored {
  int v;
};

struct named {
  static constexpr std::string_view coactor_name = "demo.named";
  int n;
};

struct every_field {
  bool b;
  std::int8_t i8;
  std::uint64_t u64;
  float f;
  std::string s;
  coactor::bytes raw;
  coactor::pid p;
  std::vector<ping> pings;
  std::array<std::int16_t, 3> arr;
  std::map<std::string, std::vector<std::int64_t>> by_name;
  std::unordered_map<std::uint32_t, bool> by_id;
  std::optional<named> maybe;
  std::variant<std::int32_t, std::string, box<long>> choice;
  color c;
};

namespace v2::deep {
struct moved {
  int camelCase;
  int x1;
};
}  // namespace v2::deep

namespace {
struct hidden {
  int a;
  std::string b;
};
}  // namespace

}  // namespace app

namespace lib {
struct point {
  int x;
  int y;
};
}  // namespace lib
template <>
struct coactor::wire_name<lib::point> {
  static constexpr std::string_view value = "geo.point";
};

// Types declared inside the library's own namespaces (g++ once dropped "coactor::detail::" from these).
namespace coactor {
struct in_coactor {
  int a;
};
}  // namespace coactor
namespace coactor::detail {
struct in_detail {
  int a;
};
}  // namespace coactor::detail

struct global_type {
  long long value;
};

namespace {

template <class T>
void print_type() {
  std::cout << coactor::type_name<T>() << '\n';
}

template <class T>
void print_struct() {
  std::cout << coactor::type_name<T>() << " {";
  const char* separator = "";
  for (std::string_view name : coactor::field_names<T>) {
    std::cout << separator << name;
    separator = ", ";
  }
  std::cout << "}\n";
}

}  // namespace

int main() {
  print_type<bool>();
  print_type<char>();
  print_type<signed char>();
  print_type<unsigned char>();
  print_type<short>();
  print_type<unsigned short>();
  print_type<int>();
  print_type<unsigned>();
  print_type<long>();
  print_type<unsigned long>();
  print_type<long long>();
  print_type<unsigned long long>();
  print_type<wchar_t>();
  print_type<char8_t>();
  print_type<char16_t>();
  print_type<char32_t>();
  print_type<float>();
  print_type<double>();
  print_type<std::string>();
  print_type<coactor::bytes>();
  print_type<coactor::pid>();
  print_type<std::vector<std::vector<std::string>>>();
  print_type<std::array<std::array<bool, 2>, 1000000>>();
  print_type<std::map<std::string, std::vector<std::int64_t>>>();
  print_type<std::unordered_map<std::uint32_t, app::ping>>();
  print_type<std::optional<std::optional<coactor::pid>>>();
  print_type<std::variant<std::int32_t, std::string, std::optional<double>, app::named, lib::point>>();
  print_type<app::color>();
  print_type<app::plain>();
  print_type<const app::ping>();
  print_type<app::box<int>>();
  print_type<app::box<long>>();
  print_type<app::box<unsigned long>>();
  print_type<app::box<long long>>();
  print_type<app::box<unsigned long long>>();
  print_type<app::box<short>>();
  print_type<app::box<unsigned short>>();
  print_type<app::box<unsigned int>>();
  print_type<app::box<signed char>>();
  print_type<app::box<unsigned char>>();
  print_type<app::box<char>>();
  print_type<app::box<float>>();
  print_type<app::box<std::string>>();
  print_type<app::box<std::vector<int>>>();
  print_type<app::box<std::map<int, std::string>>>();
  print_type<app::box<std::optional<int>>>();
  print_type<app::box<app::box<app::box<long>>>>();
  print_type<app::pair_of<app::ping, app::color>>();
  print_type<app::pair_of<std::int64_t, std::uint64_t>>();
  print_type<app::sized<16>>();
  print_type<app::signed_value<-3>>();
  print_type<app::flagged<true>>();
  print_type<app::lettered<'x'>>();
  print_type<app::colored<app::color::green>>();
  print_type<app::box<app::hidden>>();

  print_struct<app::ping>();
  print_struct<app::empty>();
  print_struct<app::outer>();
  print_struct<app::outer::inner>();
  print_struct<app::named>();
  print_struct<app::every_field>();
  print_struct<app::v2::deep::moved>();
  print_struct<app::hidden>();
  print_struct<lib::point>();
  print_struct<coactor::in_coactor>();
  print_struct<coactor::detail::in_detail>();
  print_struct<global_type>();
  print_struct<app::box<long>>();
  print_struct<app::pair_of<app::ping, std::string>>();
  print_struct<app::sized<4>>();
  print_struct<app::box<app::hidden>>();
}
