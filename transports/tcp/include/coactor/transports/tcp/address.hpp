// coactor tcp: node addresses as the TCP transports accept them: a node_address (node_address.hpp)
// that names a port, "host:port" or "[v6]:port".
#pragma once

#include <coactor/node_address.hpp>
#include <coactor/result.hpp>

#include <string_view>

namespace coactor::tcp {

/// node_address::parse, refusing an address without a port (errc::bad_message).
result<node_address> parse_address(std::string_view address);

}  // namespace coactor::tcp
