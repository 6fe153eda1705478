// tcp_test_peer: a node in an OS process of its own, for the multi-process TCP tests.
//
//     tcp_test_peer pooled|per_message
//
// Listens on 127.0.0.1 (a free port), writes its address and a newline to stdout, serves `serve` (see
// tcp_support.hpp) as "server" until that gets a quit message, then exits 0. Exits 2 on bad arguments,
// 3 if it cannot listen.
#include "tcp_support.hpp"

#include <cstdio>
#include <cstring>

int main(int argc, char** argv) {
  using namespace tcp_test;
  if (argc != 2 || (std::strcmp(argv[1], "pooled") != 0 && std::strcmp(argv[1], "per_message") != 0)) {
    std::fprintf(stderr, "usage: %s pooled|per_message\n", argv[0]);
    return 2;
  }
  const bool is_pooled = std::strcmp(argv[1], "pooled") == 0;
  coactor::node n({.name = std::string("peer-") + argv[1], .threads = 1,
                   .transport = is_pooled ? pooled::make() : per_message::make()});
  auto address = n.listen("127.0.0.1:0");
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
