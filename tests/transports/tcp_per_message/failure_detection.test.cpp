// tcp_per_message's failure detection: no connection lasts, so a dead peer is found on the next frame
// sent to it (docs/transports.md): the frame comes back, then the peer is reported down.
#include "tcp/observer.hpp"

#include <catch2/catch.hpp>

using namespace tcp_test;

#ifndef COACTOR_TCP_TEST_PEER
#error "COACTOR_TCP_TEST_PEER (the path of tcp_test_peer) is set by tests/CMakeLists.txt"
#endif

TEST_CASE("tcp_per_message: a killed peer is declared down at the next send to it, after that frame came back",
          "[tcp][tcp_per_message][failure_detection][process]") {
  peer_process peer(COACTOR_TCP_TEST_PEER, "per_message");
  observer o(std::make_unique<tcp_per_message_transport>());
  std::atomic<bool> go{false}, sent{false};
  const process_name there{peer.address(), "server"};
  o.n->spawn([&, there](context self) -> process {
    while (!go.load()) co_await self.sleep(10ms);
    self.send(there, seq{1});
    sent = true;
  });
  const std::uint64_t gone = meet(o, peer.address());
  CHECK(o.counts->ups(gone) == 1);

  peer.kill();
  std::this_thread::sleep_for(500ms);
  CHECK(o.counts->downs(gone) == 0);  // nothing tells it yet: no connection, no heartbeat
  const int given_back = o.counts->undeliverable.load();
  go = true;
  REQUIRE(wait_until([&] { return o.counts->downs(gone) == 1; }, 5s * slowdown));
  INFO(o.counts->dump());
  const auto down = o.counts->about(gone).back();
  CHECK(down.why == errc::unreachable);             // its connect was refused
  CHECK(down.given_back_before == given_back + 1);  // the frame first
  CHECK(sent.load());
}
