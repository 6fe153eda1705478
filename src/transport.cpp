#include <coactor/peer_stats.hpp>
#include <coactor/transport.hpp>

namespace coactor {

std::vector<peer_stats> transport::peers() const { return {}; }

}  // namespace coactor
