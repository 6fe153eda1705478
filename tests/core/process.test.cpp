#include <coactor/coactor.hpp>

#include <catch2/catch.hpp>

#include <string>

using namespace coactor;
using namespace std::chrono_literals;

TEST_CASE("request and reply between two processes", "[process]") {
  node n({.threads = 1});
  std::string got;
  pid server = n.spawn([](context self) -> process {
    for (;;) {
      message m = co_await self.receive();
      self.reply(m, std::string("Message Received!"));
    }
  });
  n.spawn([&](context self) -> process {
    auto r = co_await self.request<std::string>(server, std::string("test-message"), 1s);
    REQUIRE(r);
    got = *r;
    self.node().stop();
  });
  n.run();
  CHECK(got == "Message Received!");
}
