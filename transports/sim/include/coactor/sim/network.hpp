// coactor sim: network, the simulated wires between the nodes of a simulation.
//
// Each node gets a transport from network::make_transport(); it implements coactor::transport, so the
// node cannot tell it from TCP. Frames still go through the codec and the frame parser. What the network
// does to a frame is decided per directed link (from one node's address to another's) by link_settings,
// with every random choice drawn from the simulation's seeded generator:
//
//   latency     uniform in [latency_min, latency_max]
//   loss        `drop` probability that a frame is lost (silently, as on a real network; the trace shows it)
//   duplicates  `duplicate` probability that a frame is delivered twice
//   bandwidth   bytes per second on the link (0: unlimited); frames queue behind each other
//   reordering  `reorder`: frames may overtake each other (a per-message connection model). When false
//               (the default, the pooled-connection model) a link delivers in the order it was given.
//
// A partition cuts a link (or both directions): frames sent over it, or in flight when it is cut, are
// lost. A frame to an address where no node listens (crashed, never started) is refused: after one round
// trip the sender's transport reports it undeliverable (errc::unreachable), as a refused TCP connect would.
#pragma once

#include <coactor/sim/scheduler.hpp>
#include <coactor/sim/trace.hpp>
#include <coactor/time.hpp>
#include <coactor/transport.hpp>

#include <chrono>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <utility>

namespace coactor::sim {

struct link_settings {
  duration latency_min = std::chrono::milliseconds(1);
  duration latency_max = std::chrono::milliseconds(1);
  double drop = 0.0;
  double duplicate = 0.0;
  double bytes_per_second = 0.0;
  bool reorder = false;
};

class network {
 public:
  network(sim::scheduler& s, sim::trace& t, link_settings defaults = {});
  ~network();
  network(const network&) = delete;
  network& operator=(const network&) = delete;

  /// A transport for one node on this network.
  std::unique_ptr<coactor::transport> make_transport();

  /// Settings of the link from the node at `from` to the node at `to` (addresses).
  void set_link(std::string_view from, std::string_view to, const link_settings& settings);
  void set_default_link(const link_settings& settings) { defaults_ = settings; }

  /// Cuts the link from -> to (one way).
  void cut(std::string_view from, std::string_view to);
  /// Restores the link from -> to.
  void restore(std::string_view from, std::string_view to);
  void restore_all();
  bool is_cut(std::string_view from, std::string_view to) const;

  struct endpoint;

 private:
  friend class transport;
  void transmit(const std::shared_ptr<endpoint>& from, const peer_ref& peer, std::string_view frame);
  const link_settings& link(const std::string& from, const std::string& to) const;
  duration draw_latency(const link_settings& s);
  bool chance(double p);

  sim::scheduler& sched_;
  sim::trace& trace_;
  link_settings defaults_;
  std::map<std::pair<std::string, std::string>, link_settings> links_;
  std::set<std::pair<std::string, std::string>> cut_;
  std::map<std::pair<std::string, std::string>, time_point> link_free_at_;  // FIFO and bandwidth per link
  std::map<std::string, std::shared_ptr<endpoint>, std::less<>> by_address_;
  std::map<std::uint64_t, std::shared_ptr<endpoint>> by_incarnation_;
};

}  // namespace coactor::sim
