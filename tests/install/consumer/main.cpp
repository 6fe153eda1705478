// A user's program against the installed library (the install test builds it with the CMakeLists.txt of
// docs/building.md, warnings as errors): a key-value store answers put and get requests, in one node,
// then across two nodes over each transport (loopback, pooled TCP, TCP per message) and in the
// simulator. A get of a missing key is answered with an error. Exits with 0 only if every answer was
// right.
#include <coactor/coactor.hpp>
#include <coactor/sim/cluster.hpp>
#include <coactor/transports/loopback.hpp>
#include <coactor/transports/tcp_per_message.hpp>
#include <coactor/transports/tcp_pooled.hpp>

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>

using namespace std::chrono_literals;

namespace {

struct put {
  std::string key;
  std::string value;
};
struct get {
  std::string key;
};

coactor::process store(coactor::context self) {
  std::map<std::string, std::string> data;
  for (;;) {
    coactor::message m = co_await self.receive();
    if (auto* p = m.get_if<put>()) {
      data[p->key] = p->value;
      self.reply(m, true);
    } else if (auto* g = m.get_if<get>()) {
      auto it = data.find(g->key);
      if (it == data.end())
        self.reply(m, coactor::error(coactor::errc::rejected, "no key " + g->key));
      else
        self.reply(m, it->second);
    }
  }
}

// Stores a long value under a long key, reads it back, and asks for a key that is not there. Stops its
// node when done if the store runs on it (the store never ends by itself).
template <class Target>
coactor::process client(coactor::context self, Target target, std::string how, bool& ok) {
  const std::string key(40, 'k');
  const std::string value(1000, 'v');
  auto stored = co_await self.request<bool>(target, coactor::make<put>(key, value), 5s);
  auto read = co_await self.request<std::string>(target, coactor::make<get>(key), 5s);
  auto missing = co_await self.request<std::string>(target, coactor::make<get>("nothing"), 5s);
  ok = stored && *stored && read && *read == value && !missing && missing.error() == coactor::errc::rejected &&
       missing.error().detail() == "no key nothing";
  std::cout << "consumer (" << how << "): " << (ok ? "ok" : "FAILED") << " ("
            << (missing ? std::string("the missing key was found") : missing.error().message()) << ")\n";
  if constexpr (std::is_same_v<Target, coactor::pid>) self.node().stop();
}

bool one_node() {
  coactor::node node({.threads = 1});
  coactor::pid kv = node.spawn(store);
  bool ok = false;
  node.spawn(client<coactor::pid>, kv, std::string("one node"), std::ref(ok));
  node.run();
  return ok;
}

bool two_nodes(std::unique_ptr<coactor::transport> a, std::unique_ptr<coactor::transport> b,
               const char* server_address, const char* client_address, const char* how) {
  coactor::node server({.name = "server", .threads = 1, .transport = std::move(a)});
  coactor::node client_node({.name = "client", .threads = 1, .transport = std::move(b)});
  // The client listens too: a connection per message carries no reply back, so the reply needs one.
  auto bound = server.listen(server_address);
  auto client_bound = client_node.listen(client_address);
  if (!bound || !client_bound) {
    std::cerr << "consumer: listen: " << (bound ? client_bound.error() : bound.error()).message() << '\n';
    return false;
  }
  if (!server.register_name("kv", server.spawn(store))) return false;
  bool ok = false;
  client_node.spawn(client<coactor::process_name>, coactor::process_name{*bound, "kv"}, std::string(how),
                    std::ref(ok));
  std::thread t([&] { server.run(); });
  client_node.run();  // until the client has ended and its last frames are out
  server.stop();
  t.join();
  return ok;
}

bool simulated() {
  coactor::sim::cluster cluster(1);
  cluster.add_node("server", [](coactor::node& n) { n.register_name("kv", n.spawn(store)).value(); });
  bool ok = false;
  cluster.add_node("client", [&](coactor::node& n) {
    n.spawn(client<coactor::process_name>, coactor::process_name{"server", "kv"}, std::string("simulated"),
            std::ref(ok));
  });
  cluster.run_for(10s);
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
  ok = simulated() && ok;
  return ok ? EXIT_SUCCESS : EXIT_FAILURE;
}
