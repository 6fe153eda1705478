#include <coactor/scheduler.hpp>
#include <coactor/transports/loopback.hpp>
#include <coactor/wire/frame.hpp>

#include <mutex>
#include <unordered_map>
#include <unordered_set>
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
//
// The inbox also carries what the node is to hear about its peers, in order with the frames: a peer it
// reached (up), a frame of its own given back, a peer gone (down). The drain tells the host: peer_up
// before the first frame from a peer or on the first contact, each once until that peer is down; and a
// node that shuts down puts its undelivered frames back in their senders' inboxes, then its departure in
// every inbox, so that a peer hears of its frames before it hears the node is down.
struct loopback_transport::endpoint : std::enable_shared_from_this<endpoint> {
  enum class what : std::uint8_t {
    frame,     ///< a frame from `peer` (its bytes are next in the buffer)
    up,        ///< this node reached `peer`
    returned,  ///< one of this node's frames (next in the buffer) that `peer` did not deliver before it shut down
    down,      ///< `peer` shut down
  };
  struct entry {
    std::shared_ptr<endpoint> peer;
    what kind;
  };

  std::mutex mutex;
  transport_host* host = nullptr;
  bool shut_down = false;  // shutdown() ran: nothing may listen or be delivered any more
  node_identity identity;  // a copy, readable without the host
  const endpoint* reached = nullptr;  // the last peer send() queued an `up` for (under `mutex`)
  std::unordered_set<const endpoint*> contacted;  // those it queued one for, until they are down (under `mutex`)

  // The inbox (under `mutex`): bytes of frames back to back, and the entries they belong to.
  std::string inbox;
  std::vector<entry> entries;
  bool draining = false;  // a drain task is posted or running

  // The drain's own (one drain at a time): the peers the host was told are up.
  std::unordered_set<const endpoint*> announced;

  /// Queues an entry (with `frame` for a frame or a returned one); false if this node has shut down.
  bool enqueue(const std::shared_ptr<endpoint>& peer, what kind, std::string_view frame = {}) {
    scheduler* s;
    {
      std::lock_guard lock(mutex);
      if (!host) return false;
      inbox.append(frame);
      entries.push_back({peer, kind});
      if (draining) return true;
      draining = true;
      s = &host->scheduler();
    }
    s->post([self = shared_from_this()] { self->drain(); });
    return true;
  }

  void drain() {
    std::string bytes;
    std::vector<entry> batch;
    for (;;) {
      transport_host* receiver;
      {
        std::lock_guard lock(mutex);
        if (entries.empty() || !host) {
          draining = false;
          return;
        }
        std::swap(bytes, inbox);
        std::swap(batch, entries);
        receiver = host;
      }
      std::string_view rest = bytes;
      const endpoint* introduced = nullptr;  // whose identity `who` holds: runs of frames share one copy
      node_identity who;
      auto identify = [&](endpoint& peer) {
        if (&peer == introduced) return;
        introduced = &peer;
        std::lock_guard lock(peer.mutex);
        who = peer.identity;
      };
      for (const entry& e : batch) {
        std::string_view frame;
        if (e.kind == what::frame || e.kind == what::returned) {
          frame = rest.substr(0, frame_size_at(rest));
          rest.remove_prefix(frame.size());
        }
        switch (e.kind) {
          case what::frame:
            identify(*e.peer);
            if (e.peer.get() != this && announced.insert(e.peer.get()).second) receiver->peer_up(who);
            static_cast<void>(receiver->deliver(who, frame));  // a refusal is reported by the node
            break;
          case what::up:
            if (!announced.insert(e.peer.get()).second) break;
            identify(*e.peer);
            receiver->peer_up(who);
            break;
          case what::returned:
            receiver->undeliverable(frame, error(errc::unreachable, "loopback: the receiving node shut down before the frame was delivered"));
            break;
          case what::down:
            if (announced.erase(e.peer.get()) == 0) break;
            identify(*e.peer);
            receiver->peer_down(who, error(errc::stopped, "loopback: '" + who.name + "' shut down"));
            break;
        }
      }
      bytes.clear();
      batch.clear();
    }
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
  bool first_contact = false;
  {
    std::lock_guard lock(self_->mutex);
    host = self_->host;
    if (target && target != self_ && target.get() != self_->reached) {  // most frames go where the last one went
      self_->reached = target.get();
      first_contact = self_->contacted.insert(target.get()).second;
    }
  }
  if (!host) return;  // shut down: the node no longer sends
  auto where = [&] {
    return peer.address.empty() ? "incarnation " + std::to_string(peer.incarnation) : std::string(peer.address);
  };
  if (!target) return host->undeliverable(frame, error(errc::unreachable, "loopback: nobody at " + where()));
  if (!target->enqueue(self_, endpoint::what::frame, frame))
    return host->undeliverable(frame, error(errc::unreachable, "loopback: " + where() + " has shut down"));
  if (first_contact) static_cast<void>(self_->enqueue(target, endpoint::what::up));  // heard in order, by the drain
}

void loopback_transport::shutdown() {
  std::string bytes;
  std::vector<endpoint::entry> entries;
  transport_host* host;
  {
    std::lock_guard lock(self_->mutex);
    self_->shut_down = true;
    if (!self_->host) return;
    host = std::exchange(self_->host, nullptr);
    std::swap(bytes, self_->inbox);
    std::swap(entries, self_->entries);
    self_->contacted.clear();
    self_->reached = nullptr;
  }
  std::vector<std::shared_ptr<endpoint>> others;
  {
    auto& net = *network_->state_;
    std::lock_guard lock(net.mutex);
    for (auto it = net.by_address.begin(); it != net.by_address.end();)
      it = it->second == self_ ? net.by_address.erase(it) : std::next(it);
    for (auto it = net.by_incarnation.begin(); it != net.by_incarnation.end();) {
      if (it->second == self_) {
        it = net.by_incarnation.erase(it);
      } else {
        others.push_back(it->second);
        ++it;
      }
    }
  }
  // Frames that arrived and were not delivered go back to their senders; this node's own, given back
  // and not told yet, to its host now (the last calls it gets).
  std::string_view rest = bytes;
  for (const auto& e : entries) {
    if (e.kind != endpoint::what::frame && e.kind != endpoint::what::returned) continue;
    const std::string_view frame = rest.substr(0, frame_size_at(rest));
    rest.remove_prefix(frame.size());
    if (e.kind == endpoint::what::returned)
      host->undeliverable(frame, error(errc::unreachable, "loopback: the receiving node shut down before the frame was delivered"));
    else if (e.peer != self_)
      static_cast<void>(e.peer->enqueue(self_, endpoint::what::returned, frame));
  }
  // Then every other node hears it is gone (those that never had it up ignore it), after its frames.
  for (const auto& other : others) {
    {
      std::lock_guard lock(other->mutex);
      other->contacted.erase(self_.get());
      if (other->reached == self_.get()) other->reached = nullptr;
    }
    static_cast<void>(other->enqueue(self_, endpoint::what::down));
  }
}

}  // namespace coactor
