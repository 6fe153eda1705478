#include <coactor/transports/tcp/address.hpp>

namespace coactor::tcp {

result<node_address> parse_address(std::string_view address) {
  auto parsed = node_address::parse(address);
  if (parsed && address.find(':') == std::string_view::npos)
    return error(errc::bad_message, "address '" + std::string(address) + "': no port (expected host:port or [v6]:port)");
  return parsed;
}

}  // namespace coactor::tcp
