#include <coactor/node_address.hpp>

#include <charconv>
#include <ostream>

namespace coactor {

std::string node_address::to_string() const {
  std::string out;
  const bool v6 = host.find(':') != std::string::npos;
  if (v6) out += '[';
  out += host;
  if (v6) out += ']';
  if (port != 0 || v6) {
    out += ':';
    out += std::to_string(port);
  }
  return out;
}

result<node_address> node_address::parse(std::string_view text) {
  auto bad = [&](const char* why) {
    return error(errc::bad_message, "address '" + std::string(text) + "': " + why + " (expected host:port or [v6]:port)");
  };
  std::string_view host = text, port;
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string_view::npos) return bad("no closing ']'");
    host = text.substr(1, close - 1);
    if (close + 1 >= text.size() || text[close + 1] != ':') return bad("no ':port' after ']'");
    port = text.substr(close + 2);
    if (port.empty()) return bad("empty port");
  } else if (const auto colon = text.rfind(':'); colon != std::string_view::npos) {
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) return bad("an IPv6 address must be in brackets");
    if (port.empty()) return bad("empty port");
  }
  if (host.empty()) return bad("empty host");
  unsigned value = 0;
  if (!port.empty()) {
    const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc{} || end != port.data() + port.size() || value > 65535) return bad("bad port");
  }
  return node_address{std::string(host), static_cast<std::uint16_t>(value)};
}

std::ostream& operator<<(std::ostream& out, const node_address& a) { return out << a.to_string(); }

}  // namespace coactor
