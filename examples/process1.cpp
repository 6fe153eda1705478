// process1: a synchronous request to a registered process, and its reply.
//
// The first example of the post coactor started from (Chris Double, "Distributed Concurrency in Factor"),
// where process1 runs on one machine and the client on another:
//
//     : process1 ( -- )
//       receive "Message Received!" reply process1 ;
//     [ process1 ] spawn "process1" swap register-process
//
//     [ "machine1.com" 9000 <node> "process1" <remote-process>
//       "test-message" swap send-synchronous .
//     ] spawn
//
// Here both processes live in one node. The client finds process1 by name, sends "test-message" as a
// request (Factor's send-synchronous, Erlang's proposed `!!`), waits for the reply to that one request,
// and prints it: "Message Received!".
#include <coactor/coactor.hpp>

#include <chrono>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <string>

using namespace std::chrono_literals;

// A process body is a coroutine: it takes its context first and returns coactor::process. process1
// answers every message it receives with "Message Received!". Where the Factor word calls itself to wait
// for the next message, this one loops; it never ends by itself (main stops the node instead).
coactor::process process1(coactor::context self) {
  for (;;) {
    coactor::message m = co_await self.receive();     // suspends this process until a message arrives
    self.reply(m, std::string("Message Received!"));  // goes back to the requester, as the reply to m
  }
}

// The client. `exit_code` is how it tells main() how things went: a process body may take arguments
// after its context (given to spawn), here a reference to a variable of main's.
coactor::process client(coactor::context self, int& exit_code) {
  // Failures come back as a coactor::result, never as exceptions: test it, then read the value.
  coactor::result<coactor::pid> server = self.node().whereis("process1");
  if (server) {
    // request<std::string>: send "test-message" and wait at most 5 s for the reply, read as a string.
    // Meanwhile other messages to the client would stay queued for later receives.
    coactor::result<std::string> reply = co_await self.request<std::string>(*server, std::string("test-message"), 5s);
    if (reply) {
      std::cout << *reply << std::endl;  // Message Received!
      exit_code = EXIT_SUCCESS;
    } else {
      std::cerr << "request failed: " << reply.error().message() << '\n';
    }
  } else {
    std::cerr << "no process1: " << server.error().message() << '\n';
  }
  // run() returns once every process has ended, but process1 never does: stop the node instead.
  self.node().stop();
}

int main() {
  coactor::node node;  // a node runs its processes on a pool of one thread per core

  // Start process1 and register it under a name, so that other processes can find it (Factor's
  // register-process). Registering before run() means the client cannot look too early.
  coactor::pid server = node.spawn(process1);
  if (auto registered = node.register_name("process1", server); !registered) {
    std::cerr << registered.error().message() << '\n';
    return EXIT_FAILURE;
  }

  int exit_code = EXIT_FAILURE;
  node.spawn(client, std::ref(exit_code));
  node.run();  // runs the processes until the client calls stop()
  return exit_code;
}
