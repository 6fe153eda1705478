#include <coactor/transports/tcp/transport.hpp>
#include <coactor/transports/tcp/transport_core.hpp>

namespace coactor::tcp {

transport::transport(std::shared_ptr<transport_core> core) : core_(std::move(core)) {}

transport::~transport() {
  // The host may be half destroyed by now: close the link first, so that nothing reaches it.
  core_->link().close();
  core_->shutdown();
}

void transport::attach(transport_host& host) { core_->attach(host); }

result<node_address> transport::listen(std::string_view address) { return core_->listen(address); }

void transport::send(const peer_ref& peer, std::string_view frame) { core_->send(peer, frame); }

void transport::shutdown() { core_->shutdown(); }

std::vector<peer_stats> transport::peers() const { return core_->peers(); }

bool transport::has_room(const peer_ref& peer) const { return core_->has_room(peer); }

std::size_t transport::break_connections() { return core_->break_connections(); }

}  // namespace coactor::tcp
