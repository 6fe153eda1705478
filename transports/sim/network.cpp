#include <coactor/sim/network.hpp>
#include <coactor/wire/frame.hpp>

#include <algorithm>

namespace coactor::sim {

// One node's attachment. `host` is null once the node has shut its transport down (crashed or gone).
struct network::endpoint {
  transport_host* host = nullptr;
  node_identity identity;
};

/// The transport a node on the simulated network uses.
class transport final : public coactor::transport {
 public:
  explicit transport(network& net) : net_(net), self_(std::make_shared<network::endpoint>()) {}
  ~transport() override { shutdown(); }

  void attach(transport_host& host) override {
    self_->host = &host;
    self_->identity = host.identity();
    net_.by_incarnation_[self_->identity.incarnation] = self_;
  }

  result<std::string> listen(std::string_view address) override {
    if (address.empty()) return error(errc::io, "sim: empty address");
    auto [it, inserted] = net_.by_address_.emplace(std::string(address), self_);
    if (!inserted) {
      if (it->second->host) return error(errc::io, "sim: address in use: " + std::string(address));
      it->second = self_;  // a restarted node takes its address back
    }
    self_->identity.address = std::string(address);
    return std::string(address);
  }

  void send(const peer_ref& peer, std::string_view frame) override {
    if (self_->host) net_.transmit(self_, peer, frame);
  }

  void shutdown() override {
    if (!self_->host) return;
    self_->host = nullptr;
    std::erase_if(net_.by_incarnation_, [&](const auto& entry) { return entry.second == self_; });
  }

 private:
  network& net_;
  std::shared_ptr<network::endpoint> self_;
};

network::network(sim::scheduler& s, sim::trace& t, link_settings defaults) : sched_(s), trace_(t), defaults_(defaults) {}

network::~network() = default;

std::unique_ptr<coactor::transport> network::make_transport() { return std::make_unique<sim::transport>(*this); }

void network::set_link(std::string_view from, std::string_view to, const link_settings& settings) {
  links_[{std::string(from), std::string(to)}] = settings;
}

void network::cut(std::string_view from, std::string_view to) { cut_.emplace(std::string(from), std::string(to)); }

void network::restore(std::string_view from, std::string_view to) { cut_.erase({std::string(from), std::string(to)}); }

void network::restore_all() { cut_.clear(); }

bool network::is_cut(std::string_view from, std::string_view to) const {
  return cut_.count({std::string(from), std::string(to)}) != 0;
}

const link_settings& network::link(const std::string& from, const std::string& to) const {
  auto it = links_.find({from, to});
  return it == links_.end() ? defaults_ : it->second;
}

bool network::chance(double p) {
  if (p <= 0) return false;
  return std::uniform_real_distribution<double>(0.0, 1.0)(sched_.random()) < p;
}

duration network::draw_latency(const link_settings& s) {
  if (s.latency_max <= s.latency_min) return s.latency_min;
  return duration(std::uniform_int_distribution<duration::rep>(s.latency_min.count(), s.latency_max.count())(sched_.random()));
}

namespace {

/// What the trace says about a frame: who to whom, which type, which kind.
trace_event describe(std::string_view frame, const network::endpoint& from, std::string_view to_node) {
  trace_event e;
  e.from_node = from.identity.name;
  e.to_node = std::string(to_node);
  if (auto f = wire::parse_frame(frame, 0, from.identity.address)) {
    e.from = f->from;
    e.to = f->to;
    e.to_name = std::string(f->to_name);
    e.type = std::string(f->type);
    switch (f->kind) {
      case wire::frame_kind::request: e.detail = "request"; break;
      case wire::frame_kind::reply: e.detail = "reply"; break;
      case wire::frame_kind::failure: e.detail = "failure"; e.type = "<failure>"; break;
      default: break;
    }
  }
  return e;
}

}  // namespace

void network::transmit(const std::shared_ptr<endpoint>& from, const peer_ref& peer, std::string_view frame) {
  std::shared_ptr<endpoint> target;
  if (!peer.address.empty()) {
    if (auto it = by_address_.find(peer.address); it != by_address_.end()) target = it->second;
  } else if (auto it = by_incarnation_.find(peer.incarnation); it != by_incarnation_.end()) {
    target = it->second;
  }
  const std::string to_address = target ? target->identity.address : std::string(peer.address);
  trace_event event = describe(frame, *from, target ? target->identity.name : to_address);
  event.at = sched_.now();
  event.kind = event_kind::sent;
  trace_.add(event);

  const link_settings& settings = link(from->identity.address, to_address);
  if (!target || !target->host) {
    // Refused, as a connect to a closed port is: the sender learns it after a round trip.
    event.kind = event_kind::refused;
    event.detail = "nobody at '" + to_address + "'";
    auto bytes = std::make_shared<std::string>(frame);
    sched_.at(2 * draw_latency(settings), [this, from, event, bytes]() mutable {
      event.at = sched_.now();
      trace_.add(event);
      if (from->host) from->host->undeliverable(*bytes, error(errc::unreachable, "sim: " + event.detail));
    });
    return;
  }
  if (is_cut(from->identity.address, to_address)) {
    event.kind = event_kind::dropped;
    event.detail = "partition";
    trace_.add(event);
    return;
  }
  if (chance(settings.drop)) {
    event.kind = event_kind::dropped;
    event.detail = "lost";
    trace_.add(event);
    return;
  }
  const int copies = chance(settings.duplicate) ? 2 : 1;
  if (copies == 2) {
    event.kind = event_kind::duplicated;
    trace_.add(event);
  }
  auto bytes = std::make_shared<const std::string>(frame);
  auto sender = std::make_shared<const node_identity>(from->identity);
  for (int copy = 0; copy < copies; ++copy) {
    duration delay = draw_latency(settings);
    if (settings.bytes_per_second > 0)
      delay += duration(static_cast<duration::rep>(static_cast<double>(frame.size()) / settings.bytes_per_second * 1e9));
    if (!settings.reorder || settings.bytes_per_second > 0) {
      // In order on this link: never before the frame ahead of it.
      time_point& free_at = link_free_at_[{from->identity.address, to_address}];
      const time_point due = std::max(sched_.now() + delay, free_at);
      free_at = due;
      delay = due - sched_.now();
    }
    sched_.at(delay, [this, target, sender, bytes, event, to_address]() mutable {
      event.at = sched_.now();
      if (!target->host) {
        event.kind = event_kind::dropped;
        event.detail = "node down";
      } else if (is_cut(sender->address, to_address)) {
        event.kind = event_kind::dropped;
        event.detail = "partition";
      } else {
        event.kind = event_kind::delivered;
      }
      trace_.add(event);
      if (event.kind == event_kind::delivered) target->host->deliver(*sender, *bytes);
    });
  }
}

}  // namespace coactor::sim
