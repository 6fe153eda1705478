// process1_node: the post's "Machine 1", as a real OS process: a node that listens for other nodes and
// runs process1, registered under that name, which answers every synchronous message with
// "Message Received!".
//
//     process1_node --listen 127.0.0.1:9000 [--transport per-message|pooled]
//
// It prints "listening on <address>" once it accepts connections (port 0 picks a free port: read the
// address from that line), then serves until SIGINT or SIGTERM.
#include "common/node_flags.hpp"

#include <iostream>
#include <string>

coactor::process process1(coactor::context self) {
  for (;;) {
    coactor::message m = co_await self.receive();
    std::cout << "process1 got " << m.to_json().value_or("(a " + std::string(m.type_name()) + ")") << std::endl;
    self.reply(m, std::string("Message Received!"));
  }
}

int main(int argc, char** argv) {
  auto flags = example::parse_flags(argc, argv, "[--listen host:port] [--transport per-message|pooled]");
  coactor::node node({.name = "machine1",
                      .threads = 1,
                      .transport = example::make_transport(example::flag(flags, "transport", "pooled"))});
  auto address = node.listen(example::flag(flags, "listen", "127.0.0.1:0"));  // the post's start-node
  if (!address) {
    std::cerr << "cannot listen: " << address.error().message() << '\n';
    return 1;
  }
  node.register_name("process1", node.spawn(process1)).value();
  std::cout << "listening on " << *address << std::endl;
  node.stop_on_signals().value();  // Ctrl-C or `kill` ends run() cleanly
  node.run();                       // until then
  std::cout << "process1_node stopped" << std::endl;
}
