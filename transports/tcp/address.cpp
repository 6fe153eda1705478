#include <coactor/transports/tcp/address.hpp>

#include <charconv>

namespace coactor::tcp {

result<host_port> parse_address(std::string_view address) {
  auto bad = [&](const char* why) {
    return error(errc::bad_message, "address '" + std::string(address) + "': " + why + " (expected host:port or [v6]:port)");
  };
  std::string_view host, port;
  if (!address.empty() && address.front() == '[') {
    const auto close = address.find(']');
    if (close == std::string_view::npos) return bad("no closing ']'");
    host = address.substr(1, close - 1);
    if (close + 1 >= address.size() || address[close + 1] != ':') return bad("no ':port' after ']'");
    port = address.substr(close + 2);
  } else {
    const auto colon = address.rfind(':');
    if (colon == std::string_view::npos) return bad("no port");
    host = address.substr(0, colon);
    port = address.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) return bad("an IPv6 address must be in brackets");
  }
  if (host.empty()) return bad("empty host");
  if (port.empty()) return bad("empty port");
  unsigned value = 0;
  const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (ec != std::errc{} || end != port.data() + port.size() || value > 65535) return bad("bad port");
  return host_port{std::string(host), static_cast<std::uint16_t>(value)};
}

std::string format_address(std::string_view host, std::uint16_t port) {
  std::string out;
  if (host.find(':') != std::string_view::npos) {
    out += '[';
    out += host;
    out += ']';
  } else {
    out += host;
  }
  out += ':';
  out += std::to_string(port);
  return out;
}

}  // namespace coactor::tcp
