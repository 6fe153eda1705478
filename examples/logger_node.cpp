// logger_node: the post's logger on "Machine 1", as a real OS process: a node that listens and runs
// logger, registered under that name, which prints every message it receives.
//
//     logger_node --listen 127.0.0.1:9001 [--transport per-message|pooled]
//
// Prints "listening on <address>" once it accepts connections, then each message, until SIGINT/SIGTERM.
#include "common/node_flags.hpp"

#include <iostream>
#include <string>

coactor::process logger(coactor::context self) {
  for (;;) {
    coactor::message m = co_await self.receive();
    if (auto* text = m.get_if<std::string>())
      std::cout << *text << std::endl;  // the post's `receive print`
    else
      std::cout << m.type_name() << ": " << m.to_json().value_or("?") << std::endl;
  }
}

int main(int argc, char** argv) {
  auto flags = example::parse_flags(argc, argv, "[--listen host:port] [--transport per-message|pooled]");
  coactor::node node({.name = "logger-node",
                      .threads = 1,
                      .transport = example::make_transport(example::flag(flags, "transport", "pooled"))});
  auto address = node.listen(example::flag(flags, "listen", "127.0.0.1:0"));
  if (!address) {
    std::cerr << "cannot listen: " << address.error().message() << '\n';
    return 1;
  }
  node.register_name("logger", node.spawn(logger)).value();
  std::cout << "listening on " << *address << std::endl;
  node.stop_on_signals().value();  // Ctrl-C or `kill` ends run() cleanly
  node.run();                       // until then
  std::cout << "logger_node stopped" << std::endl;
}
