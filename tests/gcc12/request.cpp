// A hundred requests whose messages hold strings on the heap, in the form FORM names:
//   natural  the message built with braces inside co_await: co_await self.request<R>(srv, put{k, v}, 1s)
//   safe     the message built inside the library:          coactor::make<put>(k, v)
#include <coactor/coactor.hpp>

#include <chrono>
#include <cstdio>
#include <string>

using namespace std::chrono_literals;

struct put {
  std::string key;
  std::string value;
};

coactor::process server(coactor::context self) {
  for (;;) {
    auto m = co_await self.receive<put>();
    self.reply(m, m->key + "=" + m->value);
  }
}

int main() {
  coactor::node node({.threads = 1});
  coactor::pid srv = node.spawn(server);
  int right = 0;
  node.spawn([&](coactor::context self) -> coactor::process {
    for (int i = 0; i < 100; ++i) {
      const std::string k = std::string(40, 'k') + std::to_string(i), v = std::string(60, 'v') + std::to_string(i);
#if defined(COACTOR_NATURAL_FORM)
      auto r = co_await self.request<std::string>(srv, put{k, v}, 1s);
#else
      auto r = co_await self.request<std::string>(srv, coactor::make<put>(k, v), 1s);
#endif
      if (r && *r == k + "=" + v) ++right;
    }
    self.node().stop();
  });
  node.run();
  std::printf("%d of 100 replies right\n", right);
  return right == 100 ? 0 : 1;
}
