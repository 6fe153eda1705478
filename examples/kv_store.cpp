// kv_store: a process that keeps a map, and a client that talks to it with requests.
//
// Messages are plain structs. Inside co_await, build them with coactor::make<T>(fields...): the struct
// is then made right where the message is stored, not in your coroutine (the form that is also safe
// with g++ 12; see docs/building.md, "Compilers"). A request the server cannot serve is answered with
// an error, which the requester gets as its result's error.
#include <coactor/coactor.hpp>

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <map>
#include <string>

using namespace std::chrono_literals;

struct put {
  std::string key;
  std::string value;
};
struct get {
  std::string key;
};

coactor::process store(coactor::context self) {
  std::map<std::string, std::string> data;
  for (;;) {
    coactor::message m = co_await self.receive();
    if (const put* p = m.get_if<put>()) {
      data[p->key] = p->value;
      self.reply(m, true);
    } else if (const get* g = m.get_if<get>()) {
      if (auto it = data.find(g->key); it != data.end())
        self.reply(m, it->second);
      else
        self.reply(m, coactor::error(coactor::errc::rejected, "no key '" + g->key + "'"));
    } else {
      co_return;  // anything else ends the store
    }
  }
}

coactor::process client(coactor::context self, coactor::pid kv, int& exit_code) {
  const std::string city = "Lyon";
  auto stored = co_await self.request<bool>(kv, coactor::make<put>("city", city), 1s);
  auto found = co_await self.request<std::string>(kv, coactor::make<get>("city"), 1s);
  auto missing = co_await self.request<std::string>(kv, coactor::make<get>("planet"), 1s);
  std::cout << "city: " << (found ? *found : found.error().message()) << '\n';
  std::cout << "planet: " << (missing ? *missing : missing.error().message()) << '\n';
  if (stored && found && *found == city && !missing && missing.error() == coactor::errc::rejected)
    exit_code = EXIT_SUCCESS;
  self.send(kv, 0);  // ends the store
}

int main() {
  coactor::node node({.threads = 1});
  coactor::pid kv = node.spawn(store);
  int exit_code = EXIT_FAILURE;
  node.spawn(client, kv, std::ref(exit_code));
  node.run();  // until both processes have ended
  return exit_code;
}
