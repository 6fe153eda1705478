// client: the post's "Machine 2". Sends "test-message" synchronously to process1 on another node and
// prints the reply, then sends "Log Message!" to the logger on another node, and exits.
//
//     client --process1 127.0.0.1:9000 --logger 127.0.0.1:9001 [--transport per-message|pooled]
//
// The remote processes are named by (address, registered name), like the post's
// `"machine1.com" 9000 <node> "process1" <remote-process>`. The client listens too (on a free port), so
// that replies can reach it over per-message connections, as in the post.
#include "common/node_flags.hpp"

#include <chrono>
#include <iostream>
#include <string>

using namespace std::chrono_literals;

coactor::process client(coactor::context self, coactor::process_name process1, coactor::process_name logger,
                        int& exit_code) {
  // send-synchronous: a request, and the reply to that one request (or a clear error after 5 s).
  auto reply = co_await self.request<std::string>(process1, std::string("test-message"), 5s);
  if (!reply) {
    std::cerr << "request failed: " << reply.error().message() << '\n';
    co_return;
  }
  std::cout << *reply << std::endl;                // "Message Received!"
  self.send(logger, std::string("Log Message!"));  // printed by the logger node
  exit_code = 0;
}

int main(int argc, char** argv) {
  auto flags = example::parse_flags(argc, argv,
                                    "--process1 host:port --logger host:port [--transport per-message|pooled]");
  coactor::node node({.name = "machine2",
                      .threads = 1,
                      .transport = example::make_transport(example::flag(flags, "transport", "pooled")),
                      .flush_timeout = 2s});  // at most 2 s more for messages that cannot go out
  if (auto bound = node.listen("127.0.0.1:0"); !bound) {
    std::cerr << "cannot listen: " << bound.error().message() << '\n';
    return 1;
  }
  int exit_code = 1;
  node.spawn(client, coactor::process_name{example::flag(flags, "process1", ""), "process1"},
             coactor::process_name{example::flag(flags, "logger", ""), "logger"}, std::ref(exit_code));
  node.run();  // returns when the client process has ended and its messages are out (2 s at most)
  return exit_code;
}
