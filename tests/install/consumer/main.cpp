// Uses the installed library: a process answers a request, another checks the answer.
// Exits with 0 only if the reply arrived and was right.
#include <coactor/coactor.hpp>

#include <chrono>
#include <cstdlib>
#include <iostream>

using namespace std::chrono_literals;

int main() {
  coactor::node node;
  coactor::pid doubler = node.spawn([](coactor::context self) -> coactor::process {
    for (;;) {
      coactor::received<int> n = co_await self.receive<int>();
      self.reply(n, 2 * *n);
    }
  });
  int status = EXIT_FAILURE;
  node.spawn([doubler, &status](coactor::context self) -> coactor::process {
    coactor::result<int> r = co_await self.request<int>(doubler, 21, 5s);
    if (r && *r == 42) {
      std::cout << "consumer: 21 doubled is " << *r << '\n';
      status = EXIT_SUCCESS;
    } else {
      std::cerr << "consumer: " << (r ? "wrong answer " + std::to_string(*r) : r.error().message()) << '\n';
    }
    self.node().stop();
  });
  node.run();
  return status;
}
