// the natural form: the message built with braces inside co_await.
#include "kv.hpp"

#include <chrono>
#include <cstdio>

using namespace std::chrono_literals;

int main() {
  coactor::node node({.threads = 1});
  coactor::pid srv = node.spawn(server);
  int right = 0;
  node.spawn([&](coactor::context self) -> coactor::process {
    for (int i = 0; i < 100; ++i) {
      const std::string k = key_of(i), v = value_of(i);
      auto r = co_await self.request<std::string>(srv, put{k, v}, 1s);
      if (r && *r == k + "=" + v) ++right;
    }
    self.node().stop();
  });
  node.run();
  std::printf("natural: %d of 100 replies right\n", right);
  return right == 100 ? 0 : 1;
}
