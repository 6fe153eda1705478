#include <coactor/address_book.hpp>
#include <coactor/pid.hpp>

#include <charconv>
#include <cstdio>

namespace coactor {

std::string_view pid::address() const noexcept { return address_book::lookup(address_); }

std::string pid::to_string() const { return to_string(address()); }

std::string pid::to_string(std::string_view address) const {
  if (is_null()) return "coactor://null";
  char numbers[64];
  std::snprintf(numbers, sizeof numbers, "%llx.%x.%llx", static_cast<unsigned long long>(incarnation_), slot_,
                static_cast<unsigned long long>(id_));
  std::string text = "coactor://";
  text += address;
  text += "/pid/";
  text += numbers;
  return text;
}

result<pid> pid::parse(std::string_view text) { return parse(text, address_book::process()); }

result<pid> pid::parse(std::string_view text, address_book& addresses) {
  auto bad = [&](const char* why) { return error(errc::bad_message, "not a pid (" + std::string(why) + "): " + std::string(text)); };
  constexpr std::string_view scheme = "coactor://";
  if (text.substr(0, scheme.size()) != scheme) return bad("no coactor:// scheme");
  std::string_view rest = text.substr(scheme.size());
  if (rest == "null") return pid{};  // what to_string() writes for the null pid
  const std::size_t marker = rest.rfind("/pid/");
  if (marker == std::string_view::npos) return bad("no /pid/");
  const std::string_view address = rest.substr(0, marker);
  std::string_view numbers = rest.substr(marker + 5);
  std::uint64_t parts[3];
  for (int i = 0; i < 3; ++i) {
    const std::size_t dot = i < 2 ? numbers.find('.') : numbers.size();
    if (dot == std::string_view::npos || dot == 0 || dot > 16) return bad("expected <incarnation>.<slot>.<id> in hexadecimal");
    auto [end, ec] = std::from_chars(numbers.data(), numbers.data() + dot, parts[i], 16);
    if (ec != std::errc{} || end != numbers.data() + dot) return bad("expected <incarnation>.<slot>.<id> in hexadecimal");
    numbers.remove_prefix(i < 2 ? dot + 1 : dot);
  }
  if (parts[0] == 0 || parts[2] == 0 || parts[1] > 0xffffffffu) return bad("zero incarnation or id, or slot out of range");
  std::uint32_t index = 0;
  if (!address.empty() && (index = addresses.intern(address)) == 0)
    return error(errc::too_large, "too many distinct node addresses (the address book is full): " + std::string(text));
  return pid(parts[0], parts[2], static_cast<std::uint32_t>(parts[1]), index);
}

}  // namespace coactor

#include <coactor/process_name.hpp>

namespace coactor {

std::string process_name::to_string() const { return "coactor://" + address + "/name/" + name; }

result<process_name> process_name::parse(std::string_view text) {
  constexpr std::string_view scheme = "coactor://";
  if (text.substr(0, scheme.size()) != scheme)
    return error(errc::bad_message, "not a process name (no coactor:// scheme): " + std::string(text));
  std::string_view rest = text.substr(scheme.size());
  const std::size_t marker = rest.find("/name/");
  if (marker == std::string_view::npos || marker + 6 == rest.size())
    return error(errc::bad_message, "not a process name (no /name/<name>): " + std::string(text));
  return process_name{std::string(rest.substr(0, marker)), std::string(rest.substr(marker + 6))};
}

}  // namespace coactor
