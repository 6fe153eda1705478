// coactor tcp: transport, what both TCP transports are: one core and one connection policy.
//
// The core (transport_core.hpp) listens, accepts, runs the handshake, hands the frames peers send to the
// node (acking them for a per-message peer), reports and shuts down. The policy (connection_policy.hpp)
// sends: tcp_pooled_transport and tcp_per_message_transport are this class with their policy, and differ
// in nothing else. So nodes of either kind talk to each other, each sending its own way.
//
// The contract every transport keeps: docs/transports.md.
//
// This header does not include Asio: the public transport classes derive from this one.
#pragma once

#include <coactor/peer_stats.hpp>
#include <coactor/transport.hpp>

#include <memory>
#include <string_view>
#include <vector>

namespace coactor::tcp {

class transport_core;

class transport : public coactor::transport {
 public:
  ~transport() override;
  transport(const transport&) = delete;
  transport& operator=(const transport&) = delete;

  void attach(transport_host& host) override;
  /// "host:port" or "[v6]:port"; port 0 picks a free port. errc::io with the reason if it cannot be
  /// bound (in use), or if the node does not run on a thread_pool.
  result<node_address> listen(std::string_view address) override;
  void send(const peer_ref& peer, std::string_view frame) override;
  void shutdown() override;
  std::vector<peer_stats> peers() const override;
  bool has_room(const peer_ref& peer) const override;

  /// A test hook: resets every connection at once (an RST, bytes in flight lost), as a failing network
  /// would, while both nodes stay up; returns how many. What a transport does then is its normal
  /// recovery (tcp_pooled: it connects again and resends what was not acknowledged). For tests and
  /// benchmarks; harmless but pointless elsewhere.
  std::size_t break_connections();

 protected:
  explicit transport(std::shared_ptr<transport_core> core);

 private:
  std::shared_ptr<transport_core> core_;
};

}  // namespace coactor::tcp
