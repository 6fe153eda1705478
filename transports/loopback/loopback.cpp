#include <coactor/scheduler.hpp>
#include <coactor/transports/loopback.hpp>
#include <coactor/wire/frame.hpp>

#include <mutex>
#include <unordered_map>
#include <utility>
#include <vector>

namespace coactor {
namespace {

// The size of the complete frame at the start of `bytes` (its length field included).
std::size_t frame_size_at(std::string_view bytes) noexcept {
  return std::size_t{wire::length_field(bytes)} + wire::length_bytes;
}

}  // namespace

// One attached node: its host, as long as it is attached, and its inbox.
//
// Frames for a node go into its inbox, in the order the senders' send() calls took the lock; at most one
// drain task per node is posted to its scheduler at a time, and it delivers the inbox in that order. So
// frames from one node to another arrive in the order sent, however many threads either node runs on.
// The drain runs on the target node's own scheduler, and a node shuts its transport down only while that
// scheduler does not run it, so a host read under the lock stays valid for the delivery; the lock is not
// held while delivering (the delivery may send, and sending takes locks).
struct loopback_transport::endpoint : std::enable_shared_from_this<endpoint> {
  std::mutex mutex;
  transport_host* host = nullptr;
  bool shut_down = false;  // shutdown() ran: nothing may listen or be delivered any more
  node_identity identity;  // a copy, readable without the host

  // The inbox (under `mutex`): frames back to back, and who sent each.
  std::string inbox;
  std::vector<std::shared_ptr<endpoint>> senders;
  bool draining = false;  // a drain task is posted or running

  /// Queues `frame` from `from`; false if this node has shut down.
  bool enqueue(const std::shared_ptr<endpoint>& from, std::string_view frame) {
    scheduler* s;
    {
      std::lock_guard lock(mutex);
      if (!host) return false;
      inbox.append(frame);
      senders.push_back(from);
      if (draining) return true;
      draining = true;
      s = &host->scheduler();
    }
    s->post([self = shared_from_this()] { self->drain(); });
    return true;
  }

  void drain() {
    std::string bytes;
    std::vector<std::shared_ptr<endpoint>> from;
    for (;;) {
      transport_host* receiver;
      {
        std::lock_guard lock(mutex);
        if (senders.empty()) {
          draining = false;
          return;
        }
        std::swap(bytes, inbox);
        std::swap(from, senders);
        receiver = host;
        if (!receiver) draining = false;  // shut down: nothing is queued after this batch
      }
      std::string_view rest = bytes;
      const endpoint* introduced = nullptr;  // whose identity `who` holds: runs of frames share one copy
      node_identity who;
      for (const auto& sender : from) {
        const std::size_t n = frame_size_at(rest);
        if (receiver && sender.get() != introduced) {
          introduced = sender.get();
          std::lock_guard lock(sender->mutex);
          who = sender->identity;
        }
        if (receiver)
          static_cast<void>(receiver->deliver(who, rest.substr(0, n)));  // a refusal is reported by the node
        else
          sender->bounce(rest.substr(0, n), error(errc::unreachable, "loopback: the receiving node shut down before the frame was delivered"));
        rest.remove_prefix(n);
      }
      bytes.clear();
      from.clear();
      if (!receiver) return;
    }
  }

  /// Gives one of this node's frames back as undeliverable, on this node's scheduler (if it still runs).
  void bounce(std::string_view frame, error why) {
    scheduler* s;
    {
      std::lock_guard lock(mutex);
      if (!host) return;  // this node is gone too: nobody is left to tell
      s = &host->scheduler();
    }
    s->post([self = shared_from_this(), f = std::string(frame), why = std::move(why)] {
      transport_host* h;
      {
        std::lock_guard lock(self->mutex);
        h = self->host;
      }
      if (h) h->undeliverable(f, why);
    });
  }
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

result<node_address> loopback_transport::listen(std::string_view address) {
  {
    std::lock_guard lock(self_->mutex);
    if (self_->shut_down) return error(errc::stopped, "loopback: the transport shut down");
  }
  auto& net = *network_->state_;
  std::lock_guard lock(net.mutex);
  std::string bound(address);
  if (bound.size() >= 2 && bound.compare(bound.size() - 2, 2, ":0") == 0) {
    bound.resize(bound.size() - 1);
    bound += std::to_string(net.next_port++);
  }
  auto parsed = node_address::parse(bound);
  if (!parsed) return error(errc::io, "loopback: " + parsed.error().detail());
  if (net.by_address.count(bound)) return error(errc::io, "loopback: address in use: " + bound);
  net.by_address[bound] = self_;
  std::lock_guard self_lock(self_->mutex);
  self_->identity.address = bound;
  return parsed;
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
  {
    std::lock_guard lock(self_->mutex);
    host = self_->host;
  }
  if (!host) return;  // shut down: the node no longer sends
  auto where = [&] {
    return peer.address.empty() ? "incarnation " + std::to_string(peer.incarnation) : std::string(peer.address);
  };
  if (!target) return host->undeliverable(frame, error(errc::unreachable, "loopback: nobody at " + where()));
  if (!target->enqueue(self_, frame))
    host->undeliverable(frame, error(errc::unreachable, "loopback: " + where() + " has shut down"));
}

void loopback_transport::shutdown() {
  std::string bytes;
  std::vector<std::shared_ptr<endpoint>> from;
  {
    std::lock_guard lock(self_->mutex);
    self_->shut_down = true;
    if (!self_->host) return;
    self_->host = nullptr;
    // Frames that arrived and were not delivered go back to their senders.
    std::swap(bytes, self_->inbox);
    std::swap(from, self_->senders);
  }
  {
    auto& net = *network_->state_;
    std::lock_guard lock(net.mutex);
    for (auto it = net.by_address.begin(); it != net.by_address.end();)
      it = it->second == self_ ? net.by_address.erase(it) : std::next(it);
    for (auto it = net.by_incarnation.begin(); it != net.by_incarnation.end();)
      it = it->second == self_ ? net.by_incarnation.erase(it) : std::next(it);
  }
  std::string_view rest = bytes;
  for (const auto& sender : from) {
    const std::size_t n = frame_size_at(rest);
    if (sender != self_)
      sender->bounce(rest.substr(0, n), error(errc::unreachable, "loopback: the receiving node shut down before the frame was delivered"));
    rest.remove_prefix(n);
  }
}

}  // namespace coactor
