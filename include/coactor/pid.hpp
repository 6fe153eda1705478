// coactor: pid, the identity of a process.
//
// A pid names one process for its whole life and never another one: it holds the incarnation of the node
// the process runs on (a random number drawn at every node start), the process id (a random, unguessable
// 64-bit number: the identity) and the slot of the node's process table the process occupies (a hint
// that makes lookups direct; a slot is reused by later processes, which get other ids). A pid stays valid
// as a value after its process ends; sending to it then reports a dead process. A default-constructed
// pid is the null pid: it names no process.
//
// pids are small, trivially copyable values; copy them freely, across threads too.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

namespace coactor {

class pid {
 public:
  constexpr pid() noexcept = default;
  constexpr pid(std::uint64_t node_incarnation, std::uint64_t id, std::uint32_t slot) noexcept
      : node_(node_incarnation), id_(id), slot_(slot) {}

  /// The incarnation of the node this process runs on.
  constexpr std::uint64_t node() const noexcept { return node_; }
  /// The process id, unique within its node incarnation.
  constexpr std::uint64_t id() const noexcept { return id_; }
  /// The process's slot in its node's process table.
  constexpr std::uint32_t slot() const noexcept { return slot_; }

  constexpr bool is_null() const noexcept { return id_ == 0; }
  constexpr explicit operator bool() const noexcept { return id_ != 0; }

  friend constexpr bool operator==(const pid&, const pid&) noexcept = default;

  /// A readable form for logs, "<node.slot.id>" in hexadecimal.
  std::string to_string() const;

 private:
  std::uint64_t node_ = 0;
  std::uint64_t id_ = 0;
  std::uint32_t slot_ = 0;
};

}  // namespace coactor

template <>
struct std::hash<coactor::pid> {
  std::size_t operator()(const coactor::pid& p) const noexcept {
    return static_cast<std::size_t>(p.id() ^ (p.node() * 0x9e3779b97f4a7c15ull));
  }
};
