// sim_partition: the post's two examples, tested in the deterministic simulator under a partition.
//
// Three nodes in one thread, on virtual time: "machine1" runs the post's process1 (answers every request
// with "Message Received!") and logger (prints every message), "machine2" runs a client that, once a
// simulated second, asks process1 and logs the answer. The network between them is cut for a while: the
// client's requests time out, it logs that, and once the link heals the answers come back. Everything
// takes no real time (timeouts of seconds complete at once), and the same seed gives the same run, event
// for event, so a failure can be replayed exactly: `COACTOR_SEED=<seed> example_sim_partition`.
#include <coactor/coactor.hpp>
#include <coactor/sim/cluster.hpp>

#include <chrono>
#include <iostream>
#include <string>

using namespace std::chrono_literals;

coactor::process process1(coactor::context self) {
  for (;;) {
    coactor::message m = co_await self.receive();
    self.reply(m, std::string("Message Received!"));
  }
}

coactor::process logger(coactor::context self) {
  for (;;) {
    auto m = co_await self.receive<std::string>();
    std::cout << "[machine1 " << std::chrono::duration_cast<std::chrono::milliseconds>(
                                     self.node().scheduler().now().time_since_epoch()).count()
              << " ms] " << *m << '\n';
  }
}

// Asks process1 once a (virtual) second, `rounds` times; logs each answer or failure on machine1.
coactor::process client(coactor::context self, int rounds, int& answered, int& failed) {
  const coactor::process_name process1{"machine1", "process1"};  // the post's <remote-process>
  const coactor::process_name log{"machine1", "logger"};
  for (int i = 0; i < rounds; ++i) {
    auto reply = co_await self.request<std::string>(process1, std::string("test-message"), 500ms);
    if (reply) {
      ++answered;
      self.send(log, "round " + std::to_string(i) + ": " + *reply);
    } else {
      ++failed;  // the logger is out of reach too: say it here, on machine2
      std::cout << "[machine2] round " << i << ": " << reply.error().message() << '\n';
    }
    co_await self.sleep(1s);
  }
}

int main() {
  const std::uint64_t seed = coactor::sim::seeds(1, 2006).front();  // COACTOR_SEED picks another
  coactor::sim::cluster cluster(seed, {.link = {.latency_min = 1ms, .latency_max = 30ms}});

  cluster.add_node("machine1", [](coactor::node& n) {
    n.register_name("process1", n.spawn(process1)).value();
    n.register_name("logger", n.spawn(logger)).value();
  });
  int answered = 0, failed = 0;
  cluster.add_node("machine2", [&](coactor::node& n) { n.spawn(client, 10, std::ref(answered), std::ref(failed)); });

  cluster.run_for(2500ms);  // rounds 0-2 get through
  cluster.partition("machine1", "machine2");
  std::cout << "-- partition --\n";
  cluster.run_for(3s);      // the rounds in these three seconds time out
  cluster.heal("machine1", "machine2");
  std::cout << "-- healed --\n";
  cluster.run_until_idle();

  std::cout << "answered " << answered << ", failed " << failed << ", virtual time "
            << std::chrono::duration_cast<std::chrono::milliseconds>(cluster.now().time_since_epoch()).count()
            << " ms, seed " << seed << ", trace hash " << std::hex << cluster.trace_hash() << std::dec << '\n';
  // The partition must have cost some rounds, and the heal must have let the rest through.
  return answered + failed == 10 && failed > 0 && answered >= 5 ? 0 : 1;
}
