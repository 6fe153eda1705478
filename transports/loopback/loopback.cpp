#include <coactor/scheduler.hpp>
#include <coactor/transports/loopback.hpp>

#include <atomic>
#include <mutex>
#include <unordered_map>

namespace coactor {

// One attached node: its host, as long as it is attached. A delivery runs on the target node's own
// scheduler, and a node shuts its transport down only while that scheduler does not run it, so a host
// read under the lock stays valid for the delivery; the lock is not held while delivering (the
// delivery may send, and sending takes the lock).
struct loopback_transport::endpoint {
  std::mutex mutex;
  transport_host* host = nullptr;
  node_identity identity;  // a copy, readable without the host
};

struct loopback_network::state {
  std::mutex mutex;
  std::unordered_map<std::string, std::shared_ptr<loopback_transport::endpoint>> by_address;
  std::unordered_map<std::uint64_t, std::shared_ptr<loopback_transport::endpoint>> by_incarnation;
  std::uint64_t next_port = 1;
};

loopback_network::loopback_network() : state_(std::make_shared<state>()) {}
loopback_network::~loopback_network() = default;

loopback_transport::loopback_transport(std::shared_ptr<loopback_network> network)
    : network_(std::move(network)), self_(std::make_shared<endpoint>()) {}

loopback_transport::~loopback_transport() { shutdown(); }

void loopback_transport::attach(transport_host& host) {
  {
    std::lock_guard lock(self_->mutex);
    self_->host = &host;
    self_->identity = host.identity();
  }
  auto& net = *network_->state_;
  std::lock_guard lock(net.mutex);
  net.by_incarnation[host.identity().incarnation] = self_;
}

result<std::string> loopback_transport::listen(std::string_view address) {
  auto& net = *network_->state_;
  std::lock_guard lock(net.mutex);
  std::string bound(address);
  if (bound.size() >= 2 && bound.compare(bound.size() - 2, 2, ":0") == 0) {
    bound.resize(bound.size() - 1);
    bound += std::to_string(net.next_port++);
  }
  if (bound.empty()) return error(errc::io, "loopback: empty address");
  if (net.by_address.count(bound)) return error(errc::io, "loopback: address in use: " + bound);
  net.by_address[bound] = self_;
  std::lock_guard self_lock(self_->mutex);
  self_->identity.address = bound;
  return bound;
}

void loopback_transport::send(const peer_ref& peer, std::string_view frame) {
  std::shared_ptr<endpoint> target;
  {
    auto& net = *network_->state_;
    std::lock_guard lock(net.mutex);
    if (!peer.address.empty()) {
      if (auto it = net.by_address.find(std::string(peer.address)); it != net.by_address.end()) target = it->second;
    } else if (auto it = net.by_incarnation.find(peer.incarnation); it != net.by_incarnation.end()) {
      target = it->second;
    }
  }
  transport_host* host;
  node_identity from;
  {
    std::lock_guard lock(self_->mutex);
    host = self_->host;
    from = self_->identity;
  }
  if (!host) return;  // shut down
  const std::string where = peer.address.empty() ? "incarnation " + std::to_string(peer.incarnation) : std::string(peer.address);
  if (!target) return host->undeliverable(frame, error(errc::unreachable, "loopback: nobody at " + where));
  scheduler* target_scheduler;
  {
    std::lock_guard lock(target->mutex);
    if (!target->host) return host->undeliverable(frame, error(errc::unreachable, "loopback: " + where + " has shut down"));
    target_scheduler = &target->host->scheduler();
  }
  target_scheduler->post([target, from = std::move(from), bytes = std::string(frame)] {
    transport_host* receiver;
    {
      std::lock_guard lock(target->mutex);
      receiver = target->host;
    }
    if (receiver) receiver->deliver(from, bytes);
  });
}

void loopback_transport::shutdown() {
  {
    std::lock_guard lock(self_->mutex);
    if (!self_->host) return;
    self_->host = nullptr;
  }
  auto& net = *network_->state_;
  std::lock_guard lock(net.mutex);
  for (auto it = net.by_address.begin(); it != net.by_address.end();)
    it = it->second == self_ ? net.by_address.erase(it) : std::next(it);
  for (auto it = net.by_incarnation.begin(); it != net.by_incarnation.end();)
    it = it->second == self_ ? net.by_incarnation.erase(it) : std::next(it);
}

}  // namespace coactor
