// What the networked examples share: their command-line flags and the transport they choose. Not part of
// the library; each example stays one small program.
#pragma once

#include <coactor/coactor.hpp>
#include <coactor/transports/tcp_per_message.hpp>
#include <coactor/transports/tcp_pooled.hpp>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <string>

namespace example {

/// --name value pairs; `--transport per-message|pooled` (default pooled), `--listen host:port`.
inline std::map<std::string, std::string> parse_flags(int argc, char** argv, const char* usage) {
  std::map<std::string, std::string> flags;
  for (int i = 1; i < argc; ++i) {
    std::string key = argv[i];
    if (key.rfind("--", 0) != 0 || i + 1 >= argc) {
      std::fprintf(stderr, "usage: %s %s\n", argv[0], usage);
      std::exit(2);
    }
    flags[key.substr(2)] = argv[++i];
  }
  return flags;
}

inline std::string flag(const std::map<std::string, std::string>& flags, const std::string& name, std::string fallback) {
  auto it = flags.find(name);
  return it == flags.end() ? fallback : it->second;
}

/// The transport named on the command line: the post's connection per message, or pooled connections.
inline std::unique_ptr<coactor::transport> make_transport(const std::string& name) {
  if (name == "per-message") return std::make_unique<coactor::tcp_per_message_transport>();
  if (name == "pooled") return std::make_unique<coactor::tcp_pooled_transport>();
  std::fprintf(stderr, "unknown transport '%s' (per-message or pooled)\n", name.c_str());
  std::exit(2);
}

}  // namespace example
