// coactor transports: loopback, several nodes in one OS process, no sockets.
//
//     auto network = std::make_shared<coactor::loopback_network>();
//     coactor::node a({.name = "a", .transport = std::make_unique<coactor::loopback_transport>(network)});
//     coactor::node b({.name = "b", .transport = std::make_unique<coactor::loopback_transport>(network)});
//     a.listen("a:1");  b.listen("b:1");
//
// Frames still pass through the codec and the frame parser, so what works here works on the network.
// A frame is handed to the target node's scheduler (posted), so nodes on different thread pools stay
// on their own threads. Frames from one node to another arrive in the order they were sent. A frame to
// an address nobody listens on comes back as undeliverable (errc::unreachable) at once.
#pragma once

#include <coactor/transport.hpp>

#include <memory>
#include <string>
#include <string_view>

namespace coactor {

/// The "network" that loopback transports find each other on. Share one between the nodes that should
/// see each other; separate networks are isolated.
class loopback_network {
 public:
  loopback_network();
  ~loopback_network();
  loopback_network(const loopback_network&) = delete;
  loopback_network& operator=(const loopback_network&) = delete;

 private:
  friend class loopback_transport;
  struct state;
  std::shared_ptr<state> state_;
};

class loopback_transport final : public transport {
 public:
  explicit loopback_transport(std::shared_ptr<loopback_network> network);
  ~loopback_transport() override;

  void attach(transport_host& host) override;
  /// Registers this node under `address`; an address ending in ":0" gets a fresh port number.
  /// errc::io if the address is taken.
  result<node_address> listen(std::string_view address) override;
  void send(const peer_ref& peer, std::string_view frame) override;
  void shutdown() override;

 private:
  friend class loopback_network;
  struct endpoint;
  std::shared_ptr<loopback_network> network_;
  std::shared_ptr<endpoint> self_;
};

}  // namespace coactor
