// coactor sim: cluster, a whole simulated cluster in one thread, driven like a script.
//
//     coactor::sim::cluster c(seed);
//     c.add_node("a", [](coactor::node& n) { n.register_name("process1", n.spawn(process1)); });
//     c.add_node("b", [](coactor::node& n) { n.spawn(client); });
//     c.partition("a", "b");
//     c.run_for(5s);                 // virtual time: returns at once
//     c.heal("a", "b");
//     c.crash("a"); c.restart("a");  // a new incarnation, booted again
//     c.run_until_idle();
//     CHECK(c.delivered<std::string>(client_pid, server_pid));
//
// Every node runs on one sim::scheduler and talks over one sim::network (see those headers); the same
// process code runs here and on real transports. A node's address is its name. Node errors (dead
// letters, refused frames...) go into the trace, not to stderr. The same seed gives the same run, event
// for event: `trace_hash()` of two runs of a seed are equal.
//
// A test over many seeds: `for (auto seed : coactor::sim::seeds(1000))`; when a seed fails, print it;
// `COACTOR_SEED=<seed>` makes seeds() return just that seed, to replay it.
#pragma once

#include <coactor/node.hpp>
#include <coactor/sim/network.hpp>
#include <coactor/sim/scheduler.hpp>
#include <coactor/sim/trace.hpp>
#include <coactor/type_name.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace coactor::sim {

/// The seeds a test should run: 1..count (offset by `first - 1`), or only $COACTOR_SEED when it is set.
std::vector<std::uint64_t> seeds(std::size_t count, std::uint64_t first = 1);

struct cluster_options {
  link_settings link;         ///< default settings of every link
  bool keep_trace = true;     ///< keep every event (for printing and expectations); false: only the hash
  /// A crashed node, or one whose link to a node stays cut, is reported down there after this (virtual).
  duration peer_timeout = std::chrono::seconds(3);
};

class cluster {
 public:
  using boot_function = std::function<void(node&)>;

  explicit cluster(std::uint64_t seed, cluster_options options = {});
  ~cluster();
  cluster(const cluster&) = delete;
  cluster& operator=(const cluster&) = delete;

  /// Adds a node named (and addressed) `name`. `boot` starts its processes, now and at every restart.
  node& add_node(const std::string& name, boot_function boot = {}, codec format = codec::binary);

  /// The running node named `name`. Throws bad_access if there is none (never added, or crashed).
  node& operator[](std::string_view name);
  bool is_up(std::string_view name) const;

  /// Runs until nothing is runnable and nothing is scheduled within `limit` of virtual time from now.
  /// Returns true if it went idle, false if it reached the limit.
  bool run_until_idle(duration limit = std::chrono::hours(24));
  /// Runs for `d` of virtual time.
  void run_for(duration d);

  /// Cuts both directions between two nodes (frames in flight between them are lost too).
  void partition(std::string_view a, std::string_view b);
  /// Cuts only from -> to.
  void partition_one_way(std::string_view from, std::string_view to);
  /// Restores both directions.
  void heal(std::string_view a, std::string_view b);
  void heal_all();
  /// Settings of the link from -> to.
  void set_link(std::string_view from, std::string_view to, const link_settings& settings);

  /// Destroys the node: its processes vanish without running again; frames to it are lost or refused.
  void crash(std::string_view name);
  /// Starts a crashed node again: same name and address, a new incarnation, booted again.
  node& restart(std::string_view name);

  time_point now() const noexcept { return sched_.now(); }
  std::uint64_t seed() const noexcept { return seed_; }
  sim::scheduler& scheduler() noexcept { return sched_; }
  sim::network& network() noexcept { return network_; }
  const sim::trace& trace() const noexcept { return trace_; }
  std::uint64_t trace_hash() const noexcept { return trace_.hash(); }

  /// True if a message of type T from `from` was put in the mailbox of `to` (the null pid as `from`
  /// matches any sender).
  template <class T>
  bool delivered(const pid& from, const pid& to) const {
    return count_delivered(coactor::type_name<T>(), from, to) > 0;
  }
  /// How many messages of wire type `type` from `from` reached the mailbox of `to`.
  std::size_t count_delivered(std::string_view type, const pid& from, const pid& to) const;

 private:
  struct member;
  node& boot(member& m);

  std::uint64_t seed_;
  sim::scheduler sched_;
  sim::trace trace_;
  sim::network network_;
  std::map<std::string, std::unique_ptr<member>, std::less<>> members_;
};

}  // namespace coactor::sim
