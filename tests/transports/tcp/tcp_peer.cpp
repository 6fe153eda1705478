// tcp_test_peer: a node in an OS process of its own, for the multi-process TCP tests.
//
//     tcp_test_peer pooled|per_message [address [heartbeat_ms peer_timeout_ms]]
//
// Listens on `address` (by default 127.0.0.1 and a free port), writes its address and a newline to
// stdout, serves `serve` (see tcp_support.hpp) as "server" until that gets a quit message, then exits 0.
// A pooled peer takes its heartbeat interval and peer timeout in milliseconds (tcp_pooled_options).
// Exits 2 on bad arguments, 3 if it cannot listen.
#include "tcp_support.hpp"

#include <cstdio>
#include <cstdlib>
#include <cstring>

int main(int argc, char** argv) {
  using namespace tcp_test;
  if ((argc != 2 && argc != 3 && argc != 5) ||
      (std::strcmp(argv[1], "pooled") != 0 && std::strcmp(argv[1], "per_message") != 0)) {
    std::fprintf(stderr, "usage: %s pooled|per_message [address [heartbeat_ms peer_timeout_ms]]\n", argv[0]);
    return 2;
  }
  const bool is_pooled = std::strcmp(argv[1], "pooled") == 0;
  std::unique_ptr<coactor::transport> t = is_pooled ? pooled::make() : per_message::make();
  if (is_pooled && argc == 5)
    t = std::make_unique<tcp_pooled_transport>(tcp_pooled_options{
        .heartbeat_interval = std::chrono::milliseconds(std::atoi(argv[3])),
        .peer_timeout = std::chrono::milliseconds(std::atoi(argv[4]))});
  coactor::node n({.name = std::string("peer-") + argv[1], .threads = 1, .transport = std::move(t)});
  auto address = n.listen(argc >= 3 ? argv[2] : "127.0.0.1:0");
  if (!address) {
    std::fprintf(stderr, "tcp_test_peer: %s\n", address.error().message().c_str());
    return 3;
  }
  coactor::pid server = n.spawn(serve);
  if (!n.register_name("server", server)) return 3;
  std::printf("%s\n", address->to_string().c_str());
  std::fflush(stdout);
  n.run();  // until the server got quit
  return 0;
}
