// node::stop_on_signals: SIGINT or SIGTERM makes run() return as stop() does; a second one then has its
// default effect.
#include "support.hpp"

#include <coactor/sim/scheduler.hpp>

#include <catch2/catch.hpp>

#include <csignal>
#include <cstdlib>
#include <sys/wait.h>
#include <unistd.h>

using namespace coactor;
using namespace coactor_test;

TEST_CASE("stop_on_signals: SIGTERM and SIGINT make run() return, and the processes survive", "[signals]") {
  const int signal = GENERATE(SIGTERM, SIGINT);
  const unsigned threads = GENERATE(1u, 2u);
  CAPTURE(signal, threads);
  node n({.threads = threads});
  error_log errors(n);
  REQUIRE(n.stop_on_signals());
  std::atomic<bool> raised{false};
  pid p = n.spawn([&](context self) -> process {
    raised = std::raise(signal) == 0;  // to the whole program: the node's handler takes it
    (void)co_await self.receive<quit>();
  });
  REQUIRE(run_within(n));  // returned because of the signal, not the watchdog
  CHECK(raised);
  CHECK(n.stats().processes == 1);  // a stop, not an end: the process waits for the next run()
  n.send(p, quit{});
  REQUIRE(run_within(n));
  CHECK(errors.size() == 0);
}

TEST_CASE("stop_on_signals: a second signal ends the program, as it would without coactor", "[signals]") {
  // In a child process: the second SIGTERM kills it.
  const pid_t child = fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    {
      node n({.threads = 1});
      if (!n.stop_on_signals()) std::_Exit(10);
      n.spawn([](context self) -> process {
        std::raise(SIGTERM);
        (void)co_await self.receive<quit>();
      });
      n.run();  // returns on the first SIGTERM
      std::raise(SIGTERM);  // the default action again: the child ends here
    }
    std::_Exit(11);
  }
  int status = 0;
  REQUIRE(waitpid(child, &status, 0) == child);
  CHECK(WIFSIGNALED(status));
  CHECK((WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM));
}

TEST_CASE("stop_on_signals needs a thread pool: errc::not_local on the simulator's scheduler", "[signals]") {
  sim::scheduler s(1);
  node n(s);
  auto r = n.stop_on_signals();
  REQUIRE_FALSE(r);
  CHECK(r.error() == errc::not_local);
}
