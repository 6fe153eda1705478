#include <coactor/detail/node_core.hpp>
#include <coactor/sim/cluster.hpp>

#include <cstdlib>

namespace coactor::sim {

std::vector<std::uint64_t> seeds(std::size_t count, std::uint64_t first) {
  if (const char* chosen = std::getenv("COACTOR_SEED"); chosen && *chosen)
    return {std::strtoull(chosen, nullptr, 0)};
  std::vector<std::uint64_t> all(count);
  for (std::size_t i = 0; i < count; ++i) all[i] = first + i;
  return all;
}

// A node of the cluster, and what is needed to boot it again.
struct cluster::member final : detail::tracer {
  cluster* owner = nullptr;
  std::string name;
  boot_function boot;
  codec format = codec::binary;
  std::unique_ptr<node> running;

  void delivering(const pid& to, const detail::envelope& e) noexcept override {
    if (!owner->trace_.keeps_events()) {
      const std::string_view type = e.type && e.type != &detail::opaque_type ? e.type->name : std::string_view("?");
      owner->trace_.add_delivery(owner->sched_.now(), e.from, to, type);
      return;
    }
    try {
      trace_event event;
      event.at = owner->sched_.now();
      event.kind = event_kind::mailbox;
      event.to_node = name;
      event.from = e.from;
      event.to = to;
      if (e.type == &detail::opaque_type)
        event.type = static_cast<const detail::opaque_payload*>(e.payload())->type_name;
      else if (e.kind == detail::envelope_kind::failure)
        event.type = "<failure>";
      else if (e.type)
        event.type = std::string(e.type->name);
      switch (e.kind) {
        case detail::envelope_kind::request: event.detail = "request"; break;
        case detail::envelope_kind::reply: event.detail = "reply"; break;
        case detail::envelope_kind::failure: event.detail = "failure"; break;
        default: break;
      }
      owner->trace_.add(std::move(event));
    } catch (...) {
    }
  }
};

cluster::cluster(std::uint64_t seed, cluster_options options)
    : seed_(seed), sched_(seed), trace_(options.keep_trace), network_(sched_, trace_, options.link, options.peer_timeout) {}

cluster::~cluster() {
  // Nodes go first (their processes may hold timers of the scheduler), in a fixed order.
  for (auto& [name, m] : members_) m->running.reset();
}

node& cluster::add_node(const std::string& name, boot_function boot_fn, codec format) {
  auto m = std::make_unique<member>();
  m->owner = this;
  m->name = name;
  m->boot = std::move(boot_fn);
  m->format = format;
  member& ref = *m;
  if (!members_.emplace(name, std::move(m)).second) throw bad_access("sim::cluster: a node named '" + name + "' exists");
  return boot(ref);
}

node& cluster::boot(member& m) {
  auto& random = sched_.random();
  node_options options;
  options.name = m.name;
  options.incarnation = random() | 1;  // never 0
  options.pid_key[0] = random();
  options.pid_key[1] = random() | 1;
  options.transport = network_.make_transport();
  options.format = m.format;
  options.tracer = &m;
  m.running = std::make_unique<node>(sched_, std::move(options));
  node& n = *m.running;
  n.on_error([this, name = m.name](const error& e, const pid& who) {
    trace_event event;
    event.at = sched_.now();
    event.kind = event_kind::reported;
    event.to_node = name;
    event.to = who;
    event.detail = e.message();
    trace_.add(std::move(event));
  });
  if (auto bound = n.listen(m.name); !bound) throw bad_access("sim::cluster: " + bound.error().message());
  if (m.boot) m.boot(n);
  return n;
}

node& cluster::operator[](std::string_view name) {
  auto it = members_.find(name);
  if (it == members_.end() || !it->second->running) throw bad_access("sim::cluster: no running node '" + std::string(name) + "'");
  return *it->second->running;
}

bool cluster::is_up(std::string_view name) const {
  auto it = members_.find(name);
  return it != members_.end() && it->second->running;
}

bool cluster::run_until_idle(duration limit) { return sched_.run_until(sched_.now() + limit); }

void cluster::run_for(duration d) { sched_.run_until(sched_.now() + d); }

void cluster::partition(std::string_view a, std::string_view b) {
  partition_one_way(a, b);
  partition_one_way(b, a);
}

void cluster::partition_one_way(std::string_view from, std::string_view to) {
  network_.cut(from, to);
  trace_.add({sched_.now(), event_kind::partitioned, std::string(from), std::string(to), {}, {}, {}, {}, {}});
}

void cluster::heal(std::string_view a, std::string_view b) {
  for (auto [x, y] : {std::pair{a, b}, std::pair{b, a}}) {
    network_.restore(x, y);
    trace_.add({sched_.now(), event_kind::healed, std::string(x), std::string(y), {}, {}, {}, {}, {}});
  }
}

void cluster::heal_all() {
  network_.restore_all();
  trace_.add({sched_.now(), event_kind::healed, "*", "*", {}, {}, {}, {}, {}});
}

void cluster::set_link(std::string_view from, std::string_view to, const link_settings& settings) {
  network_.set_link(from, to, settings);
}

void cluster::crash(std::string_view name) {
  auto it = members_.find(name);
  if (it == members_.end() || !it->second->running) throw bad_access("sim::cluster: no running node '" + std::string(name) + "'");
  it->second->running.reset();
  trace_.add({sched_.now(), event_kind::crashed, std::string(name), {}, {}, {}, {}, {}, {}});
}

node& cluster::restart(std::string_view name) {
  auto it = members_.find(name);
  if (it == members_.end()) throw bad_access("sim::cluster: no node '" + std::string(name) + "'");
  if (it->second->running) crash(name);
  trace_.add({sched_.now(), event_kind::restarted, std::string(name), {}, {}, {}, {}, {}, {}});
  return boot(*it->second);
}

std::size_t cluster::count_delivered(std::string_view type, const pid& from, const pid& to) const {
  std::size_t n = 0;
  for (const trace_event& e : trace_.events())
    if (e.kind == event_kind::mailbox && e.type == type && e.to == to && (from.is_null() || e.from == from)) ++n;
  return n;
}

}  // namespace coactor::sim
