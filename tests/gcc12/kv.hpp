// The store both programs ask: it answers a put with "<key>=<value>".
#pragma once

#include <coactor/coactor.hpp>

#include <string>

struct put {
  std::string key;
  std::string value;
};

inline coactor::process server(coactor::context self) {
  for (;;) {
    auto m = co_await self.receive<put>();
    self.reply(m, m->key + "=" + m->value);
  }
}

// Keys and values long enough to live on the heap, where a double free shows.
inline std::string key_of(int i) { return std::string(40, 'k') + std::to_string(i); }
inline std::string value_of(int i) { return std::string(60, 'v') + std::to_string(i); }
