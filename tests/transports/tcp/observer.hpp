// A node that observes its peers for the failure-detection tests: its transport sits inside a counting
// decorator (../counting_transport.hpp), which records every peer_up and peer_down, with the time.
#pragma once

#include "../counting_transport.hpp"
#include "tcp_support.hpp"

namespace tcp_test {

using transport_test::counting_transport;
using transport_test::frame_counts;

/// A node on `t`, watched; it listens, and serves (which keeps it running).
struct observer {
  explicit observer(std::unique_ptr<transport> t)
      : counts(std::make_shared<frame_counts>()), n("observer", std::make_unique<counting_transport>(std::move(t), counts)) {
    address = n.listen();
    n.serve_here();
  }
  explicit observer(const tcp_pooled_options& options) : observer(std::make_unique<tcp_pooled_transport>(options)) {}
  std::shared_ptr<frame_counts> counts;
  test_node n;
  std::string address;
};

/// The observer asks the server at `address` for a pong until it answers: the two have met.
inline void meet(observer& o, const std::string& address, std::atomic<bool>& answered) {
  const process_name there{address, "server"};
  o.n->spawn([&answered, there](context self) -> process {
    for (int i = 0; i < 20 && !answered.load(); ++i) {
      auto r = co_await self.request<std::string>(there, coactor::make<ping>(i, "hello", pid{}), 2s);
      if (r) answered = true;
    }
  });
}

}  // namespace tcp_test
