// coactor tcp: node addresses as the TCP transports write them.
//
//   "127.0.0.1:9000"   an IPv4 address and a port
//   "localhost:9000"   a host name (resolved when connecting or listening)
//   "[::1]:9000"       an IPv6 address, in brackets
//
// The port is decimal, 0..65535 (0 only makes sense for listen(): pick a free port).
#pragma once

#include <coactor/result.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace coactor::tcp {

struct host_port {
  std::string host;  ///< without brackets
  std::uint16_t port = 0;
};

/// Splits an address; errc::bad_message naming what is wrong (no port, bad port, empty host, bad brackets).
result<host_port> parse_address(std::string_view address);

/// The inverse of parse_address: brackets a host that contains ':' (an IPv6 literal).
std::string format_address(std::string_view host, std::uint16_t port);

}  // namespace coactor::tcp
