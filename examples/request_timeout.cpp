// request_timeout: a request answered in time, one that times out, and what becomes of the late reply.
//
// A request waits for its reply for a given time at most. When the time is up, the request fails with
// errc::timeout; the server does not know and may still answer later. Such a late reply is not delivered
// to a later receive: the runtime drops it and counts it in node_stats::stale_replies.
#include <coactor/coactor.hpp>

#include <chrono>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <string>

using namespace std::chrono_literals;

// A request for the server: work for `takes`, then answer.
struct work {
  std::chrono::milliseconds takes;
};

// The server handles one request after the other, in the order they arrive.
coactor::process server(coactor::context self) {
  for (;;) {
    coactor::received<work> job = co_await self.receive<work>();  // job-> reaches the work
    co_await self.sleep(job->takes);  // suspends only this process: the node goes on running others
    self.reply(job, "done after " + std::to_string(job->takes.count()) + " ms");
  }
}

coactor::process client(coactor::context self, coactor::pid srv, int& exit_code) {
  // 1. The server needs 10 ms; we wait up to 2 s. The reply comes in time.
  coactor::result<std::string> fast = co_await self.request<std::string>(srv, coactor::make<work>(10ms), 2s);
  std::cout << "fast request: " << (fast ? *fast : fast.error().message()) << std::endl;

  // 2. The server needs 500 ms; we wait 100 ms only. The request fails with errc::timeout.
  coactor::result<std::string> slow = co_await self.request<std::string>(srv, coactor::make<work>(500ms), 100ms);
  const bool timed_out = !slow && slow.error() == coactor::errc::timeout;
  std::cout << "slow request: " << (slow ? *slow : slow.error().message()) << std::endl;

  // 3. One more request. The server answers it only after the slow job, and replies from one process
  //    arrive in the order they were sent: by the time this reply is here, the late one came first and
  //    was dropped. It never shows up in a receive.
  coactor::result<std::string> after = co_await self.request<std::string>(srv, coactor::make<work>(0ms), 5s);
  std::cout << "next request: " << (after ? *after : after.error().message()) << std::endl;

  const auto stale = self.node().stats().stale_replies;
  std::cout << "late replies dropped: " << stale << std::endl;

  if (fast && timed_out && after && stale == 1) exit_code = EXIT_SUCCESS;
  self.node().stop();  // the server never ends by itself
}

int main() {
  coactor::node node;
  coactor::pid srv = node.spawn(server);
  int exit_code = EXIT_FAILURE;
  node.spawn(client, srv, std::ref(exit_code));
  node.run();
  return exit_code;
}
