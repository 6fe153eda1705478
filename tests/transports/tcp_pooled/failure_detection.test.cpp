// tcp_pooled's failure detection (transport_host::peer_up/peer_down), seen through a counting decorator
// around the transport of an observing node: heartbeats on a quiet connection, a peer that falls silent,
// one that is killed, one that restarts, one that announces no heartbeats. Peers are tcp_test_peer
// processes (killed with SIGKILL, frozen with SIGSTOP) or raw sockets speaking the protocol by hand.
//
// Times are asserted with generous slack (sanitizer builds are slow): these say "within the timeout,
// give or take", never how fast.
#include "../tcp/observer.hpp"

#include <catch2/catch.hpp>

using namespace tcp_test;

#ifndef COACTOR_TCP_TEST_PEER
#error "COACTOR_TCP_TEST_PEER (the path of tcp_test_peer) is set by tests/CMakeLists.txt"
#endif

namespace {

using clock_type = std::chrono::steady_clock;

/// Heartbeats every 100 ms, a peer down after 300 ms: the fastest the options allow, nearly.
const tcp_pooled_options quick{.heartbeat_interval = 100ms, .peer_timeout = 300ms};

/// Slack on top of a timeout before a test gives up on an event: a second, times the build's slowdown.
constexpr auto slack = 1s * slowdown;

double ms(clock_type::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

std::size_t heartbeats_in(std::string_view bytes) {
  const auto kinds = kinds_in(bytes);
  return static_cast<std::size_t>(std::count(kinds.begin(), kinds.end(), wire::frame_kind::heartbeat));
}

/// Starts `o` and connects `peer` to it by hand: greeted as incarnation `me`, without an address, pooled,
/// with heartbeats every `beat` (0: none).
void greet(observer& o, raw_socket& peer, std::uint64_t me, std::chrono::milliseconds beat) {
  o.n.start();
  REQUIRE(peer.connect(o.address));
  std::string out;
  wire::write_greeting(out, node_identity{me, "raw", "", codec::binary}, wire::connection_mode::pooled,
                       wire::supported_versions, beat);
  peer.write(out);
}

}  // namespace

TEST_CASE("tcp_pooled: options out of range are refused", "[tcp][tcp_pooled][failure_detection]") {
  CHECK_THROWS_AS(tcp_pooled_transport(tcp_pooled_options{.peer_timeout = 99ms}), std::invalid_argument);
  CHECK_THROWS_AS(tcp_pooled_transport(tcp_pooled_options{.heartbeat_interval = 300ms, .peer_timeout = 300ms}),
                  std::invalid_argument);
  CHECK_THROWS_AS(tcp_pooled_transport(tcp_pooled_options{.heartbeat_interval = -1ms}), std::invalid_argument);
  CHECK_NOTHROW(tcp_pooled_transport(tcp_pooled_options{.heartbeat_interval = 99ms, .peer_timeout = 100ms}));
  CHECK_NOTHROW(tcp_pooled_transport(tcp_pooled_options{.heartbeat_interval = 0ms, .peer_timeout = 100ms}));  // none
}

TEST_CASE("tcp_pooled: heartbeats flow on a quiet connection, and a peer whose heartbeats stop is declared down",
          "[tcp][tcp_pooled][failure_detection]") {
  observer o(quick);
  raw_socket peer;
  constexpr std::uint64_t me = 0x5eed'0000'0000'0077;
  greet(o, peer, me, 100ms);
  // For a second: the peer beats every 100 ms and says nothing else; the node, with nothing to say
  // either, beats too, and keeps the peer up.
  std::string heard;
  const auto until = clock_type::now() + 1s;
  auto silent = clock_type::now();
  while (clock_type::now() < until) {
    peer.write(wire::heartbeat_frame());
    silent = clock_type::now();
    const auto next = clock_type::now() + 100ms;
    while (clock_type::now() < next) static_cast<void>(peer.read_for(heard, 20ms));
  }
  const std::size_t beats = heartbeats_in(heard);
  INFO("the node wrote " << kinds_in(heard).size() << " frames, " << beats << " heartbeats; it heard:\n" << o.counts->dump());
  CHECK(kinds_in(heard).front() == wire::frame_kind::hello);
  CHECK(beats >= 4);  // about 10; and nothing else but its hello
  CHECK(beats == kinds_in(heard).size() - 1);
  CHECK(o.counts->ups(me) == 1);
  CHECK(o.counts->downs(me) == 0);
  CHECK(o.counts->delivered.load() == 0);  // heartbeats are the transport's: never delivered

  // The peer has fallen silent: down 300 ms after its last heartbeat, and the node closes the connection.
  REQUIRE(wait_until([&] { return o.counts->downs(me) == 1; }, 300ms + slack));
  const auto down = o.counts->about(me).back();
  CHECK(down.why == errc::timeout);
  CHECK(down.at - silent >= 250ms);  // not before its time (the last heartbeat went out just before)
  CHECK(ms(down.at - silent) < ms(300ms + slack));
  int r;
  while ((r = peer.read_for(heard, std::chrono::duration_cast<std::chrono::milliseconds>(slack))) > 0) {
  }
  CHECK(r == 0);  // EOF: closed
}

TEST_CASE("tcp_pooled: a peer that announces no heartbeats is never declared down for its silence",
          "[tcp][tcp_pooled][failure_detection]") {
  observer o(quick);
  raw_socket peer;
  constexpr std::uint64_t me = 0x5eed'0000'0000'0078;
  greet(o, peer, me, 0ms);  // no heartbeats, as an older node, or the Python client, would say
  std::string heard;
  const auto until = clock_type::now() + 1500ms;  // five times the node's peer_timeout
  int r = -1;
  while (clock_type::now() < until && r != 0) r = peer.read_for(heard, 50ms);
  INFO("it heard:\n" << o.counts->dump());
  CHECK(r != 0);                                    // still open
  CHECK(kinds_in(heard) == std::vector<wire::frame_kind>{wire::frame_kind::hello});  // and not sent heartbeats
  CHECK(o.counts->ups(me) == 1);
  CHECK(o.counts->downs(me) == 0);
  // It goes away (it does not listen, so it cannot be dialled again): down once its time is up.
  peer.close();
  REQUIRE(wait_until([&] { return o.counts->downs(me) == 1; }, 300ms + slack));
  CHECK(o.counts->about(me).back().why == errc::unreachable);
}

TEST_CASE("tcp_pooled: a peer process killed without a word is declared down within peer_timeout",
          "[tcp][tcp_pooled][failure_detection][process]") {
  peer_process peer(COACTOR_TCP_TEST_PEER, std::vector<std::string>{"pooled", "127.0.0.1:0", "100", "300"});
  observer o(quick);
  const std::uint64_t gone = meet(o, peer.address());

  const auto killed = clock_type::now();
  peer.kill();  // its sockets closed by the kernel: no bye
  REQUIRE(wait_until([&] { return o.counts->downs(gone) == 1; }, 300ms + slack));
  const auto down = o.counts->about(gone).back();
  INFO(o.counts->dump() << "down " << ms(down.at - killed) << " ms after the kill");
  CHECK(down.why == errc::unreachable);  // its connection broke, and no dial worked again in time
  CHECK(ms(down.at - killed) < ms(300ms + slack));
  std::this_thread::sleep_for(300ms);
  CHECK(o.counts->downs(gone) == 1);  // once
  CHECK(o.counts->ups(gone) == 1);
}

TEST_CASE("tcp_pooled: a peer that stays connected and says nothing, its process stopped, is declared down, and up "
          "again when it comes back",
          "[tcp][tcp_pooled][failure_detection][process]") {
  peer_process peer(COACTOR_TCP_TEST_PEER, std::vector<std::string>{"pooled", "127.0.0.1:0", "100", "300"});
  observer o(quick);
  const std::uint64_t frozen = meet(o, peer.address());

  const auto paused = clock_type::now();
  peer.pause();  // SIGSTOP: the kernel keeps its connection open; its heartbeats stop
  REQUIRE(wait_until([&] { return o.counts->downs(frozen) == 1; }, 300ms + slack));
  const auto down = o.counts->about(frozen).back();
  INFO(o.counts->dump() << "down " << ms(down.at - paused) << " ms after it stopped");
  CHECK(down.why == errc::timeout);  // silence, not a broken connection
  CHECK(ms(down.at - paused) < ms(300ms + slack));

  // It goes on: its connection was closed meanwhile, it dials again, and is up again (the same node).
  peer.resume();
  REQUIRE(wait_until([&] { return o.counts->ups(frozen) == 2; }, 5s * slowdown));
  CHECK(o.counts->downs(frozen) == 1);
}

TEST_CASE("tcp_pooled: a peer restarted at its address is declared down as restarted, then its new incarnation up",
          "[tcp][tcp_pooled][failure_detection][process]") {
  auto first = std::make_unique<peer_process>(COACTOR_TCP_TEST_PEER, std::vector<std::string>{"pooled"});
  const std::string address = first->address();
  observer o(tcp_pooled_options{});  // the defaults: 1 s heartbeats, 3 s to come back, time enough for a restart
  const std::uint64_t old = meet(o, address);

  first->kill();
  peer_process second(COACTOR_TCP_TEST_PEER, std::vector<std::string>{"pooled", address});
  REQUIRE(second.address() == address);
  // The observer dials the address again and meets the new incarnation there.
  REQUIRE(wait_until([&] { return o.counts->about().size() >= 3; }, 3s + slack));
  const auto events = o.counts->about();
  INFO(o.counts->dump());
  REQUIRE(events.size() == 3);
  CHECK((!events[1].up && events[1].peer.incarnation == old));
  CHECK(events[1].why == errc::node_down);
  CHECK_THAT(events[1].why.detail(), Catch::Contains("restarted"));
  CHECK((events[2].up && events[2].peer.incarnation != old && events[2].peer.address == address));
}
