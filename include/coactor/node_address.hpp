// coactor: node_address, where a node accepts connections from other nodes.
//
//     coactor::result<coactor::node_address> bound = node.listen("127.0.0.1:0");
//     std::cout << "listening on port " << bound->port << '\n';      // the port the system picked
//     coactor::process_name logger{*bound, "logger"};
//
// Text form, as the TCP transports read and write it:
//   "127.0.0.1:9000"   an IPv4 address and a port
//   "localhost:9000"   a host name (resolved when connecting or listening)
//   "[::1]:9000"       an IPv6 address, in brackets (`host` holds it without them)
//   "a"                a name without a port, for transports whose addresses have none (the simulator)
// The port is decimal, 0..65535; 0 in a listen() address asks for a free port.
#pragma once

#include <coactor/result.hpp>

#include <cstdint>
#include <iosfwd>
#include <string>
#include <string_view>

namespace coactor {

struct node_address {
  std::string host;        ///< a host name or IP address (IPv6 without brackets), or a plain name
  std::uint16_t port = 0;  ///< 0: none (a plain name), or in a listen() address: any free port

  /// The text form: "host:port", "[v6]:port", or the host alone when the port is 0.
  std::string to_string() const;
  /// Reads the text form. errc::bad_message naming what is wrong: an empty host, a port that is not a
  /// number of 0..65535, an IPv6 address without brackets, a ']' missing.
  static result<node_address> parse(std::string_view text);

  friend bool operator==(const node_address&, const node_address&) = default;
};

/// Writes to_string().
std::ostream& operator<<(std::ostream& out, const node_address& a);

}  // namespace coactor
