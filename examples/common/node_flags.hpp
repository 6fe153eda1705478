// What the networked examples share: their command-line flags, the transport they choose, and a clean
// stop on SIGINT/SIGTERM. Not part of the library; each example stays one small program.
#pragma once

#include <coactor/coactor.hpp>
#include <coactor/transports/tcp_per_message.hpp>
#include <coactor/transports/tcp_pooled.hpp>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <pthread.h>
#include <string>
#include <thread>

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

inline sigset_t stop_signals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  return signals;
}

/// Blocks SIGINT and SIGTERM in this thread and every thread started after it: call first in main(),
/// before the node (and Asio) start threads, so that the signals reach stop_on_signal's thread only.
inline void block_stop_signals() {
  const sigset_t signals = stop_signals();
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
}

/// A thread that stops `n` when SIGINT or SIGTERM arrives (after block_stop_signals()).
inline std::thread stop_on_signal(coactor::node& n) {
  return std::thread([&n] {
    const sigset_t signals = stop_signals();
    int received = 0;
    sigwait(&signals, &received);
    n.stop();
  });
}

}  // namespace example
