// coactor detail: registry, the registered names of one node's processes.
//
// A name names at most one process, and a process has at most one name. A name is freed by
// unregister_name() or when its process ends (node_core::exit calls process_ended()).
//
// The registry does not know the process table; the node passes what touches it as callables that the
// registry calls under its own lock. That is what keeps a name from outliving its process: `claim`
// marks the process as named (process_base::registered) only while it is still in the table, and the
// node removes an ending process from the table before it asks `registered` whether to call
// process_ended(), which waits for this lock. So a name is either entered before the process's exit
// looks, and freed by it, or not entered at all.
//
// Threads: every member function is thread-safe (one mutex; none of it is on the message path).
#pragma once

#include <coactor/error.hpp>
#include <coactor/pid.hpp>
#include <coactor/result.hpp>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

namespace coactor::detail {

class registry {
 public:
  registry() = default;
  registry(const registry&) = delete;
  registry& operator=(const registry&) = delete;

  /// Enters `name` for `p`. Fails with errc::name_taken if another process holds it; otherwise calls
  /// `claim()` (under the registry's lock), which returns errc{} when it has marked `p` as named,
  /// errc::dead_process when `p` is not a live process, errc::already_registered when `p` already has a
  /// name; the name is entered only on errc{}.
  template <class Claim>
  result<void> register_name(std::string name, const pid& p, Claim&& claim) {
    std::lock_guard lock(mutex_);
    if (auto it = by_name_.find(name); it != by_name_.end()) return name_taken(name, it->second);
    const errc failure = claim();
    if (failure != errc{}) return claim_failed(failure, name, p);
    by_id_.emplace(p.id(), name);
    by_name_.emplace(std::move(name), p);
    return {};
  }

  /// Frees `name`; errc::no_such_name if it is not entered. Calls `release(pid)` (under the registry's
  /// lock) for the process that held it, to unmark it.
  template <class Release>
  result<void> unregister_name(std::string_view name, Release&& release) {
    std::lock_guard lock(mutex_);
    auto it = by_name_.find(name);
    if (it == by_name_.end()) return no_such_name(name);
    const pid p = it->second;
    release(p);
    by_id_.erase(p.id());
    by_name_.erase(it);
    return {};
  }

  /// The process registered under `name`, or errc::no_such_name.
  result<pid> whereis(std::string_view name) const;

  /// Frees the name of the process `id`, if it has one: that process has ended.
  void process_ended(std::uint64_t id) noexcept;

 private:
  /// std::hash over anything convertible to string_view, for lookups by string_view.
  struct string_hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
  };

  static error name_taken(const std::string& name, const pid& holder);
  static error claim_failed(errc why, const std::string& name, const pid& p);
  static error no_such_name(std::string_view name);

  mutable std::mutex mutex_;
  std::unordered_map<std::string, pid, string_hash, std::equal_to<>> by_name_;
  std::unordered_map<std::uint64_t, std::string> by_id_;  ///< process id -> its name
};

}  // namespace coactor::detail
