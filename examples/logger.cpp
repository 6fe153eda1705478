// logger: an asynchronous message to a process found by its registered name.
//
// The second example of the post coactor started from (Chris Double, "Distributed Concurrency in
// Factor"): a logger process on machine 1 prints every message it receives, and any process, on any
// machine, can send it one by name:
//
//     : logger ( -- ) receive print logger ;
//     [ logger ] spawn "logger" swap register-process
//
//     [ "machine1.com" 9000 <node> "logger" <remote-process>
//       "Log Message!" swap send
//     ] spawn
//
// Here both processes live in one node, and the logger prints "Log Message!".
#include <coactor/coactor.hpp>

#include <cstdlib>
#include <functional>
#include <iostream>
#include <string>

// A message can be of any type, such as this empty struct, which asks the logger to finish.
struct stop_logging {};

// The logger. A plain receive() takes whatever comes first, of any type; the message then says what it
// holds. (receive<std::string>() would wait for a string only, leaving anything else queued.)
coactor::process logger(coactor::context self) {
  for (;;) {
    coactor::message m = co_await self.receive();
    if (const std::string* line = m.get_if<std::string>()) {
      std::cout << *line << std::endl;  // Log Message!
    } else if (m.is<stop_logging>()) {
      co_return;  // the process ends, and its name "logger" is free again
    }
  }
}

// The sender: looks the logger up by name and sends it a line. send() never blocks and never waits for
// the receiver; there is no reply.
coactor::process sender(coactor::context self, int& exit_code) {
  coactor::result<coactor::pid> to = self.node().whereis("logger");
  if (!to) {
    std::cerr << "no logger: " << to.error().message() << '\n';
    self.node().stop();
    co_return;
  }
  self.send(*to, std::string("Log Message!"));
  // Messages from one process to another arrive in the order they were sent, so the logger prints the
  // line before it sees this.
  self.send(*to, stop_logging{});
  exit_code = EXIT_SUCCESS;
}

int main() {
  coactor::node node;
  if (auto registered = node.register_name("logger", node.spawn(logger)); !registered) {
    std::cerr << registered.error().message() << '\n';
    return EXIT_FAILURE;
  }
  int exit_code = EXIT_FAILURE;
  node.spawn(sender, std::ref(exit_code));
  node.run();  // returns when both processes have ended
  return exit_code;
}
