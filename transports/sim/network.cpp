#include <coactor/sim/network.hpp>
#include <coactor/wire/frame.hpp>

#include <algorithm>
#include <array>

namespace coactor::sim {

// Where a frame to a peer goes: the peer's endpoint and the link to it. An endpoint remembers its last
// few; an entry is good while the network's routes_version_ is the one it was made in.
struct network::route {
  std::uint64_t version = 0;  // 0: empty
  std::uint64_t incarnation = 0;
  std::string address;         // the peer as frames name it: by address, or by incarnation if empty
  endpoint* target = nullptr;  // null: nobody there
  std::uint32_t to_id = 0;
  link_state* link = nullptr;
};

// One node's attachment, owned by the network for its whole life (frames in flight point to it). `host` is
// null once the node has shut its transport down (crashed or gone).
struct network::endpoint {
  explicit endpoint(std::uint32_t n) : number(n) { set_identity({}); }
  const std::uint32_t number;    // its place in network::endpoints_
  transport_host* host = nullptr;
  bool departed = false;         // it shut down (crashed), at `departed_at`
  time_point departed_at{};
  std::vector<bool> up;          // by endpoint number: the peers reported up to this node
  const node_identity* identity = nullptr;                        // the newest of `identities`
  std::vector<std::unique_ptr<const node_identity>> identities;  // all it had: frames in flight name theirs
  std::uint32_t address_id = 0;  // its address's number (network::address_id), once it listens

  // Where this node's frames went lately, so that most frames skip the lookups of their target and link.
  std::array<route, 4> routes;
  std::size_t next_route = 0;  // the entry to replace next

  bool knows(const endpoint& peer) const noexcept { return peer.number < up.size() && up[peer.number]; }
  void set_identity(node_identity id) {
    identities.push_back(std::make_unique<const node_identity>(std::move(id)));
    identity = identities.back().get();
  }
};

/// The transport a node on the simulated network uses.
class transport final : public coactor::transport {
 public:
  explicit transport(network& net) : net_(net) {
    net_.endpoints_.push_back(std::make_unique<network::endpoint>(static_cast<std::uint32_t>(net_.endpoints_.size())));
    self_ = net_.endpoints_.back().get();
  }
  ~transport() override { shutdown(); }

  void attach(transport_host& host) override {
    self_->host = &host;
    self_->set_identity(host.identity());
    net_.by_incarnation_[self_->identity->incarnation] = self_;
    ++net_.routes_version_;
  }

  result<node_address> listen(std::string_view address) override {
    if (stopped_) return error(errc::stopped, "sim: the transport shut down");
    auto parsed = node_address::parse(address);
    if (!parsed) return error(errc::io, "sim: " + parsed.error().detail());
    auto [it, inserted] = net_.by_address_.emplace(std::string(address), self_);
    if (!inserted) {
      if (it->second->host) return error(errc::io, "sim: address in use: " + std::string(address));
      it->second = self_;  // a restarted node takes its address back
    }
    node_identity identity = *self_->identity;
    identity.address = std::string(address);
    self_->set_identity(std::move(identity));
    self_->address_id = net_.address_id(address);
    ++net_.routes_version_;
    return parsed;
  }

  void send(const peer_ref& peer, std::string_view frame) override {
    if (self_->host) net_.transmit(*self_, peer, frame);
  }

  void shutdown() override {
    stopped_ = true;
    if (!self_->host) return;
    self_->host = nullptr;
    self_->departed = true;
    self_->departed_at = net_.sched_.now();
    std::erase_if(net_.by_incarnation_, [&](const auto& entry) { return entry.second == self_; });
    ++net_.routes_version_;
    // The nodes that had it up hear nothing from it any more: down after the detection time.
    net_.sched_.at(net_.peer_timeout_, [net = &net_, number = self_->number] { net->check_departed(number); });
  }

 private:
  network& net_;
  network::endpoint* self_;
  bool stopped_ = false;  // shutdown() ran: listen() fails from now on
};

network::network(sim::scheduler& s, sim::trace& t, link_settings defaults, duration peer_timeout)
    : sched_(s), trace_(t), defaults_(defaults), peer_timeout_(peer_timeout) {}

network::~network() = default;

std::unique_ptr<coactor::transport> network::make_transport() { return std::make_unique<sim::transport>(*this); }

std::uint32_t network::address_id(std::string_view address) {
  if (address.empty()) return 0;
  if (auto it = address_ids_.find(address); it != address_ids_.end()) return it->second;
  const auto id = static_cast<std::uint32_t>(address_ids_.size() + 1);
  address_ids_.emplace(std::string(address), id);
  return id;
}

std::uint64_t network::link_key(std::string_view from, std::string_view to) { return link_key(address_id(from), address_id(to)); }

void network::set_link(std::string_view from, std::string_view to, const link_settings& settings) {
  link_state& l = link(link_key(from, to));
  l.settings = settings;
  l.configured = true;
}

void network::cut(std::string_view from, std::string_view to) {
  const std::uint64_t key = link_key(from, to);
  link_state& l = link(key);
  if (l.cut) return;  // already: its check is under way
  l.cut = true;
  ++l.cuts;
  // `to` hears nothing from `from` now: if that lasts, it reports it down.
  sched_.at(peer_timeout_, [this, key, cuts = l.cuts, f = std::string(from), t = std::string(to)]() mutable {
    check_cut(key, cuts, std::move(f), std::move(t));
  });
}

void network::restore(std::string_view from, std::string_view to) { link(link_key(from, to)).cut = false; }

void network::restore_all() {
  for (auto& [key, l] : links_) l.cut = false;
}

bool network::is_cut(std::string_view from, std::string_view to) const {
  auto a = address_ids_.find(from), b = address_ids_.find(to);
  if (a == address_ids_.end() || b == address_ids_.end()) return false;  // never named: no link, not cut
  auto it = links_.find(link_key(a->second, b->second));
  return it != links_.end() && it->second.cut;
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

const network::route& network::route_to(endpoint& from, const peer_ref& peer) {
  for (const route& r : from.routes)
    if (r.version == routes_version_ &&
        (peer.address.empty() ? r.address.empty() && r.incarnation == peer.incarnation : r.address == peer.address))
      return r;
  route& r = from.routes[from.next_route];
  from.next_route = (from.next_route + 1) % from.routes.size();
  r.target = nullptr;
  if (!peer.address.empty()) {
    if (auto it = by_address_.find(peer.address); it != by_address_.end()) r.target = it->second;
  } else if (auto it = by_incarnation_.find(peer.incarnation); it != by_incarnation_.end()) {
    r.target = it->second;
  }
  r.to_id = r.target ? r.target->address_id : address_id(peer.address);
  r.link = &link(link_key(from.address_id, r.to_id));
  r.incarnation = peer.incarnation;
  r.address.assign(peer.address);
  r.version = routes_version_;
  return r;
}

void network::transmit(endpoint& from, const peer_ref& peer, std::string_view frame) {
  const route& way = route_to(from, peer);
  endpoint* const target = way.target;
  const std::uint32_t to_id = way.to_id;
  const std::uint64_t key = link_key(from.address_id, to_id);
  link_state& state = *way.link;
  const link_settings& settings = settings_of(state);
  auto to_node = [&] { return target ? std::string_view(target->identity->name) : peer.address; };
  // The full event is built only when the trace keeps events; otherwise the frame's digest is hashed.
  std::unique_ptr<trace_event> event =
      trace_.keeps_events() ? std::make_unique<trace_event>(describe(frame, from, to_node())) : nullptr;
  const std::uint64_t digest = event ? 0 : trace::digest(frame);
  auto record = [&](event_kind kind, std::string_view detail = {}) {
    if (event) {
      event->kind = kind;
      event->at = sched_.now();
      if (!detail.empty()) event->detail = std::string(detail);
      trace_.add(*event);
    } else {
      trace_.add_frame(sched_.now(), kind, from.address_id, to_id, digest);
    }
  };
  record(event_kind::sent);

  if (!target || !target->host) return refuse(from, peer, frame, to_node(), key, settings, event.get());
  if (state.cut) return record(event_kind::dropped, "partition");
  if (chance(settings.drop)) return record(event_kind::dropped, "lost");
  const int copies = chance(settings.duplicate) ? 2 : 1;
  if (copies == 2) record(event_kind::duplicated);

  in_flight& flight = take_flight();
  flight.target = target;
  flight.from = &from;
  flight.sender = from.identity;
  flight.link = &state;
  flight.key = key;
  flight.bytes.assign(frame);
  flight.digest = digest;
  flight.arrivals = copies;
  flight.event = std::move(event);
  for (int copy = 0; copy < copies; ++copy) {
    duration delay = draw_latency(settings);
    if (settings.bytes_per_second > 0)
      delay += duration(static_cast<duration::rep>(static_cast<double>(frame.size()) / settings.bytes_per_second * 1e9));
    if (!settings.reorder || settings.bytes_per_second > 0) {
      // In order on this link: never before the frame ahead of it.
      const time_point due = std::max(sched_.now() + delay, state.free_at);
      state.free_at = due;
      delay = due - sched_.now();
    }
    sched_.at(delay, &network::on_arrival, &flight);
  }
}

// Refused, as a connect to a closed port is: the sender learns it after a round trip.
void network::refuse(endpoint& from, const peer_ref& peer, std::string_view frame, std::string_view to_node,
                     std::uint64_t key, const link_settings& settings, const trace_event* event) {
  auto bytes = std::make_shared<const std::string>(frame);
  std::string why = "nobody at '" + std::string(peer.address.empty() ? to_node : peer.address) + "'";
  std::shared_ptr<trace_event> refused = event ? std::make_shared<trace_event>(*event) : nullptr;
  sched_.at(2 * draw_latency(settings), [this, from = &from, bytes, why = std::move(why), refused, key] {
    if (refused) {
      refused->kind = event_kind::refused;
      refused->at = sched_.now();
      refused->detail = why;
      trace_.add(*refused);
    } else {
      trace_.add_frame(sched_.now(), event_kind::refused, static_cast<std::uint32_t>(key >> 32),
                       static_cast<std::uint32_t>(key), trace::digest(*bytes));
    }
    if (from->host) from->host->undeliverable(*bytes, error(errc::unreachable, "sim: " + why));
  });
}

network::in_flight& network::take_flight() {
  if (spare_flights_.empty()) {
    flights_.push_back(std::make_unique<in_flight>());
    spare_flights_.reserve(flights_.capacity());  // so that giving one back never allocates
    flights_.back()->net = this;
    return *flights_.back();
  }
  in_flight* f = spare_flights_.back();
  spare_flights_.pop_back();
  return *f;
}

void network::on_arrival(void* flight) {
  auto& f = *static_cast<in_flight*>(flight);
  network& net = *f.net;
  net.arrive(f);
  if (--f.arrivals == 0) {
    f.event.reset();
    net.spare_flights_.push_back(&f);
  }
}

void network::arrive(const in_flight& f) {
  event_kind kind = event_kind::delivered;
  std::string_view why;
  if (!f.target->host) {
    kind = event_kind::dropped;
    why = "node down";
  } else if (f.link->cut) {  // cut while in flight
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
    trace_.add_frame(sched_.now(), kind, static_cast<std::uint32_t>(f.key >> 32), static_cast<std::uint32_t>(f.key), f.digest);
  }
  if (kind != event_kind::delivered) return;
  // A contact: the target hears from the sender (before the frame); the sender learns the target is there
  // if the way back works too.
  if (!f.target->knows(*f.from)) contact(*f.target, *f.from);
  if (f.from->host && !f.from->knows(*f.target) && !link(link_key(f.target->address_id, f.from->address_id)).cut)
    contact(*f.from, *f.target);
  if (f.target->host) static_cast<void>(f.target->host->deliver(*f.sender, f.bytes));  // a refusal is reported by the node
}

// ---- failure detection ----

void network::trace_peer(event_kind kind, const endpoint& observer, const endpoint& peer, std::string_view why) {
  trace_event e;
  e.at = sched_.now();
  e.kind = kind;
  e.from_node = peer.identity->name;
  e.to_node = observer.identity->name;
  e.detail = std::string(why);
  trace_.add(std::move(e));
}

void network::contact(endpoint& observer, endpoint& peer) {
  if (!observer.host || &observer == &peer || observer.knows(peer)) return;
  // Another incarnation at the peer's address that the observer has up: it was restarted.
  if (peer.address_id != 0) {
    std::vector<endpoint*> replaced;
    for (std::size_t i = 0; i < observer.up.size(); ++i)
      if (observer.up[i] && endpoints_[i]->address_id == peer.address_id) replaced.push_back(endpoints_[i].get());
    for (endpoint* old : replaced)
      report_down(observer, *old, "restarted (its address now has incarnation " + std::to_string(peer.identity->incarnation) + ")");
    if (!observer.host) return;
  }
  if (observer.up.size() <= peer.number) observer.up.resize(endpoints_.size());
  observer.up[peer.number] = true;
  trace_peer(event_kind::peer_up, observer, peer, {});
  observer.host->peer_up(*peer.identity);
  // A frame still on its way when its sender went: down when its time is up (now, if it is past).
  if (peer.departed)
    sched_.at(peer.departed_at + peer_timeout_ - sched_.now(), [this, number = peer.number] { check_departed(number); });
}

void network::report_down(endpoint& observer, endpoint& peer, std::string_view why) {
  if (!observer.host || !observer.knows(peer)) return;
  observer.up[peer.number] = false;
  trace_peer(event_kind::peer_down, observer, peer, why);
  observer.host->peer_down(*peer.identity, error(errc::node_down, "sim: '" + peer.identity->name + "' " + std::string(why)));
}

void network::check_departed(std::uint32_t number) {
  endpoint& peer = *endpoints_[number];
  const std::string why = "is gone (nothing from it for " + std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(peer_timeout_).count()) + "ms)";
  for (std::size_t i = 0; i < endpoints_.size(); ++i) report_down(*endpoints_[i], peer, why);  // in a fixed order
}

void network::check_cut(std::uint64_t key, std::uint64_t cuts, std::string from, std::string to) {
  const link_state& l = link(key);
  if (!l.cut || l.cuts != cuts) return;  // restored meanwhile (and perhaps cut again: that cut has its own check)
  auto at = by_address_.find(to);
  if (at == by_address_.end() || !at->second->host) return;
  endpoint& observer = *at->second;
  const auto from_id = static_cast<std::uint32_t>(key >> 32);
  std::vector<endpoint*> silent;
  for (std::size_t i = 0; i < observer.up.size(); ++i)
    if (observer.up[i] && endpoints_[i]->address_id == from_id) silent.push_back(endpoints_[i].get());
  for (endpoint* peer : silent)
    report_down(observer, *peer, "is cut off: nothing from '" + from + "' for " +
                                     std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(peer_timeout_).count()) + "ms");
}

}  // namespace coactor::sim
