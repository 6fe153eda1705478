#include <coactor/detail/address_book.hpp>
#include <coactor/sim/network.hpp>
#include <coactor/wire/frame.hpp>

#include <algorithm>

namespace coactor::sim {

// One node's attachment. `host` is null once the node has shut its transport down (crashed or gone).
struct network::endpoint {
  transport_host* host = nullptr;
  std::shared_ptr<const node_identity> identity = std::make_shared<const node_identity>();
  std::uint32_t address_id = 0;  // its address in the address book, once it listens
};

/// The transport a node on the simulated network uses.
class transport final : public coactor::transport {
 public:
  explicit transport(network& net) : net_(net), self_(std::make_shared<network::endpoint>()) {}
  ~transport() override { shutdown(); }

  void attach(transport_host& host) override {
    self_->host = &host;
    self_->identity = std::make_shared<const node_identity>(host.identity());
    net_.by_incarnation_[self_->identity->incarnation] = self_;
  }

  result<std::string> listen(std::string_view address) override {
    if (address.empty()) return error(errc::io, "sim: empty address");
    auto [it, inserted] = net_.by_address_.emplace(std::string(address), self_);
    if (!inserted) {
      if (it->second->host) return error(errc::io, "sim: address in use: " + std::string(address));
      it->second = self_;  // a restarted node takes its address back
    }
    auto identity = std::make_shared<node_identity>(*self_->identity);
    identity->address = std::string(address);
    self_->identity = std::move(identity);
    self_->address_id = detail::address_book::intern(address);
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

std::uint64_t network::link_key(std::string_view from, std::string_view to) {
  return link_key(detail::address_book::intern(from), detail::address_book::intern(to));
}

void network::set_link(std::string_view from, std::string_view to, const link_settings& settings) {
  links_[link_key(from, to)] = settings;
}

void network::cut(std::string_view from, std::string_view to) { cut_.insert(link_key(from, to)); }

void network::restore(std::string_view from, std::string_view to) { cut_.erase(link_key(from, to)); }

void network::restore_all() { cut_.clear(); }

bool network::is_cut(std::string_view from, std::string_view to) const {
  return cut_.count(link_key(from, to)) != 0;
}

const link_settings& network::link(std::uint64_t key) const {
  if (links_.empty()) return defaults_;
  auto it = links_.find(key);
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

// What the trace says about a frame: who to whom, which type, which kind.
trace_event network::describe(std::string_view frame, const endpoint& from, std::string_view to_node) const {
  trace_event e;
  e.at = sched_.now();
  e.from_node = from.identity->name;
  e.to_node = std::string(to_node);
  if (auto f = wire::parse_frame(frame, 0, from.identity->address)) {
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

void network::transmit(const std::shared_ptr<endpoint>& from, const peer_ref& peer, std::string_view frame) {
  std::shared_ptr<endpoint> target;
  if (!peer.address.empty()) {
    if (auto it = by_address_.find(peer.address); it != by_address_.end()) target = it->second;
  } else if (auto it = by_incarnation_.find(peer.incarnation); it != by_incarnation_.end()) {
    target = it->second;
  }
  const std::uint32_t to_id = target ? target->address_id : detail::address_book::intern(peer.address);
  const std::uint64_t key = link_key(from->address_id, to_id);
  const bool keep = trace_.keeps_events();
  const std::string to_name = target ? target->identity->name : std::string(peer.address);
  // The full event is built only when the trace keeps events; otherwise the frame's bytes are hashed.
  std::unique_ptr<trace_event> event = keep ? std::make_unique<trace_event>(describe(frame, *from, to_name)) : nullptr;
  auto record = [&](event_kind kind, std::string detail = {}) {
    if (event) {
      event->kind = kind;
      event->at = sched_.now();
      event->detail = detail.empty() ? event->detail : std::move(detail);
      trace_.add(*event);
    } else {
      trace_.add_frame(sched_.now(), kind, from->address_id, to_id, frame);
    }
  };
  record(event_kind::sent);

  const link_settings& settings = link(key);
  if (!target || !target->host) {
    // Refused, as a connect to a closed port is: the sender learns it after a round trip.
    auto bytes = std::make_shared<const std::string>(frame);
    const std::string why = "nobody at '" + std::string(peer.address.empty() ? to_name : peer.address) + "'";
    std::shared_ptr<trace_event> refused(event ? new trace_event(*event) : nullptr);
    sched_.at(2 * draw_latency(settings), [this, from, bytes, why, refused, key] {
      if (refused) {
        refused->kind = event_kind::refused;
        refused->at = sched_.now();
        refused->detail = why;
        trace_.add(*refused);
      } else {
        trace_.add_frame(sched_.now(), event_kind::refused, static_cast<std::uint32_t>(key >> 32),
                         static_cast<std::uint32_t>(key), *bytes);
      }
      if (from->host) from->host->undeliverable(*bytes, error(errc::unreachable, "sim: " + why));
    });
    return;
  }
  if (cut_.count(key)) return record(event_kind::dropped, "partition");
  if (chance(settings.drop)) return record(event_kind::dropped, "lost");
  const int copies = chance(settings.duplicate) ? 2 : 1;
  if (copies == 2) record(event_kind::duplicated);

  // One allocation carries the frame through the network (the std::function holds just the pointer).
  auto flight = std::make_shared<in_flight>(in_flight{this, target, from->identity, std::string(frame), key, std::move(event)});
  for (int copy = 0; copy < copies; ++copy) {
    duration delay = draw_latency(settings);
    if (settings.bytes_per_second > 0)
      delay += duration(static_cast<duration::rep>(static_cast<double>(frame.size()) / settings.bytes_per_second * 1e9));
    if (!settings.reorder || settings.bytes_per_second > 0) {
      // In order on this link: never before the frame ahead of it.
      time_point& free_at = link_free_at_[key];
      const time_point due = std::max(sched_.now() + delay, free_at);
      free_at = due;
      delay = due - sched_.now();
    }
    sched_.at(delay, [flight] { flight->net->arrive(*flight); });
  }
}

void network::arrive(const in_flight& f) {
  event_kind kind = event_kind::delivered;
  std::string_view why;
  if (!f.target->host) {
    kind = event_kind::dropped;
    why = "node down";
  } else if (cut_.count(f.key)) {  // cut while in flight
    kind = event_kind::dropped;
    why = "partition";
  }
  if (f.event) {
    trace_event copy = *f.event;
    copy.at = sched_.now();
    copy.kind = kind;
    if (!why.empty()) copy.detail = std::string(why);
    trace_.add(std::move(copy));
  } else {
    trace_.add_frame(sched_.now(), kind, static_cast<std::uint32_t>(f.key >> 32), static_cast<std::uint32_t>(f.key), f.bytes);
  }
  if (kind == event_kind::delivered) f.target->host->deliver(*f.sender, f.bytes);
}

}  // namespace coactor::sim
