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
//
// Failure detection, as tcp_pooled's heartbeats would see it, on virtual time and without frames of its
// own (transport_host::peer_up/peer_down; both in the trace):
//   up    a node hears of a peer at the first contact: a frame from the peer arriving (before it is
//         delivered), or a frame of its own reaching the peer while the way back is not cut either (a
//         handshake needs both ways). Again after the peer was reported down.
//   down  peer_timeout after the peer crashed or shut down (frames still in flight to it are lost, as
//         on a connection whose peer dies); or once the link from the peer to this node has been cut
//         for peer_timeout (the node hears nothing from it: each side of a partition reports the other);
//         or at once when another incarnation at the peer's address is heard of ("restarted").
// The detection time is the network's peer_timeout (3 s by default, as tcp_pooled's).
#pragma once

#include <coactor/sim/scheduler.hpp>
#include <coactor/sim/trace.hpp>
#include <coactor/time.hpp>
#include <coactor/transport.hpp>

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

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
  network(sim::scheduler& s, sim::trace& t, link_settings defaults = {}, duration peer_timeout = std::chrono::seconds(3));
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

  /// How long until a crashed peer, or one whose link to a node stays cut, is reported down there.
  duration peer_timeout() const noexcept { return peer_timeout_; }
  void set_peer_timeout(duration d) { peer_timeout_ = d; }

 private:
  friend class transport;
  struct endpoint;
  // Links are keyed by the numbers of their two ends' addresses (address_id(): 1, 2, ... in the order
  // this network first saw them, so that traces do not depend on what else the OS process did).
  static std::uint64_t link_key(std::uint32_t from, std::uint32_t to) noexcept { return (std::uint64_t{from} << 32) | to; }
  std::uint64_t link_key(std::string_view from, std::string_view to);
  std::uint32_t address_id(std::string_view address);

  // Everything about one directed link. Created on first use and never erased, so frames in flight can
  // point to theirs.
  struct link_state {
    bool cut = false;
    std::uint64_t cuts = 0;   ///< how many times it was cut: a check of a cut knows whether it is still that one
    bool configured = false;  ///< `settings` were set for this link; otherwise defaults_ apply
    link_settings settings;
    time_point free_at{};     ///< when the last frame given to this link arrives (FIFO and bandwidth)
  };
  // A frame on its way. Pooled: a frame's bytes go into a buffer that keeps its capacity, and its arrival
  // is scheduled as a plain function call, so a frame in flight costs no allocation once the pool is warm.
  struct in_flight {
    network* net = nullptr;
    endpoint* target = nullptr;
    endpoint* from = nullptr;
    const node_identity* sender = nullptr;  ///< kept alive by the sending endpoint
    link_state* link = nullptr;
    std::uint64_t key = 0;
    std::string bytes;
    std::uint64_t digest = 0;               ///< the trace's digest of `bytes`
    int arrivals = 0;                        ///< scheduled arrivals still to come (2 for a duplicate)
    std::unique_ptr<trace_event> event;      ///< kept only when the trace keeps events
  };

  struct route;  // where frames to one peer go (network.cpp)

  void transmit(endpoint& from, const peer_ref& peer, std::string_view frame);
  const route& route_to(endpoint& from, const peer_ref& peer);
  void refuse(endpoint& from, const peer_ref& peer, std::string_view frame, std::string_view to_node,
              std::uint64_t key, const link_settings& settings, const trace_event* event);
  static void on_arrival(void* flight);
  void arrive(const in_flight& f);
  in_flight& take_flight();
  // ---- failure detection ----
  void contact(endpoint& observer, endpoint& peer);
  void report_down(endpoint& observer, endpoint& peer, std::string_view why);
  void check_departed(std::uint32_t number);
  void check_cut(std::uint64_t key, std::uint64_t cuts, std::string from, std::string to);
  void trace_peer(event_kind kind, const endpoint& observer, const endpoint& peer, std::string_view why);
  trace_event describe(std::string_view frame, const endpoint& from, std::string_view to_node) const;
  link_state& link(std::uint64_t key) { return links_[key]; }
  const link_settings& settings_of(const link_state& l) const noexcept { return l.configured ? l.settings : defaults_; }
  duration draw_latency(const link_settings& s);
  bool chance(double p);

  sim::scheduler& sched_;
  sim::trace& trace_;
  link_settings defaults_;
  std::unordered_map<std::uint64_t, link_state> links_;
  std::vector<std::unique_ptr<endpoint>> endpoints_;  // every endpoint made, for the network's life
  std::vector<std::unique_ptr<in_flight>> flights_;   // every in_flight made
  std::vector<in_flight*> spare_flights_;             // those not in flight now
  struct text_hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
  };
  std::unordered_map<std::string, endpoint*, text_hash, std::equal_to<>> by_address_;
  std::unordered_map<std::uint64_t, endpoint*> by_incarnation_;
  std::unordered_map<std::string, std::uint32_t, text_hash, std::equal_to<>> address_ids_;
  std::uint64_t routes_version_ = 1;  // changes whenever by_address_ or by_incarnation_ does
  duration peer_timeout_;
};

}  // namespace coactor::sim
