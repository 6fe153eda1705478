// Uses the installed library: a process answers requests, others check the answers; inside one node,
// then across two nodes in memory (loopback) and two nodes over pooled TCP on 127.0.0.1.
// Exits with 0 only if every reply arrived and was right.
#include <coactor/coactor.hpp>
#include <coactor/sim/cluster.hpp>
#include <coactor/transports/loopback.hpp>
#include <coactor/transports/tcp_per_message.hpp>
#include <coactor/transports/tcp_pooled.hpp>

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <utility>

using namespace std::chrono_literals;

namespace {

coactor::process doubler(coactor::context self) {
  for (;;) {
    coactor::received<int> n = co_await self.receive<int>();
    self.reply(n, 2 * *n);
  }
}

// Spawns a process on `client` that asks `target` to double 21, sets `ok` if the answer is 42, and stops
// both nodes.
template <class Target>
void ask(coactor::node& client, coactor::node& server, Target target, const char* how, bool& ok) {
  client.spawn([&, target, how](coactor::context self) -> coactor::process {
    coactor::result<int> r = co_await self.request<int>(target, 21, 5s);
    ok = r && *r == 42;
    std::cout << "consumer (" << how << "): "
              << (r ? "21 doubled is " + std::to_string(*r) : r.error().message()) << '\n';
    client.stop();
    server.stop();
  });
}

bool one_node() {
  coactor::node node;
  coactor::pid d = node.spawn(doubler);
  bool ok = false;
  ask(node, node, d, "one node", ok);
  node.run();
  return ok;
}

bool two_nodes(std::unique_ptr<coactor::transport> a, std::unique_ptr<coactor::transport> b,
               const char* server_address, const char* client_address, const char* how) {
  coactor::node server({.name = "server", .threads = 1, .transport = std::move(a)});
  coactor::node client({.name = "client", .threads = 1, .transport = std::move(b)});
  // The client listens too: a connection per message carries no reply back, so the reply needs one.
  auto bound = server.listen(server_address);
  auto client_bound = client.listen(client_address);
  if (!bound || !client_bound) {
    std::cerr << "consumer: listen: " << (bound ? client_bound : bound).error().message() << '\n';
    return false;
  }
  if (!server.register_name("doubler", server.spawn(doubler))) return false;
  bool ok = false;
  ask(client, server, coactor::process_name{*bound, "doubler"}, how, ok);
  std::thread t([&] { server.run(); });
  client.run();
  t.join();
  return ok;
}

}  // namespace

int main() {
  auto network = std::make_shared<coactor::loopback_network>();
  bool ok = one_node();
  ok = two_nodes(std::make_unique<coactor::loopback_transport>(network),
                 std::make_unique<coactor::loopback_transport>(network), "server:1", "client:1", "loopback") && ok;
  ok = two_nodes(std::make_unique<coactor::tcp_pooled_transport>(),
                 std::make_unique<coactor::tcp_pooled_transport>(), "127.0.0.1:0", "127.0.0.1:0", "pooled TCP") && ok;
  ok = two_nodes(std::make_unique<coactor::tcp_per_message_transport>(),
                 std::make_unique<coactor::tcp_per_message_transport>(), "127.0.0.1:0", "127.0.0.1:0", "TCP per message") && ok;
  coactor::sim::cluster cluster(1);  // the simulator is installed too
  return ok ? EXIT_SUCCESS : EXIT_FAILURE;
}
