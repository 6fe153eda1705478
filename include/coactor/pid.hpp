// coactor: pid, the identity of a process.
//
// A pid names one process for its whole life and never another one: it holds the incarnation of the node
// the process runs on (a random number drawn at every node start), the process id (a random, unguessable
// 64-bit number: the identity) and the slot of the node's process table the process occupies (a hint
// that makes lookups direct; a slot is reused by later processes, which get other ids). A pid stays valid
// as a value after its process ends; sending to it then reports a dead process. A default-constructed
// pid is the null pid: it names no process.
//
// A pid that came from another node (inside a message, or parsed from its string form) also knows that
// node's address, so that messages to it can be routed. A pid of a local process does not need one.
//
// String form: "coactor://<address>/pid/<incarnation>.<slot>.<id>" (hexadecimal numbers), for example
// "coactor://127.0.0.1:9000/pid/9f2c41d07a33e001.2a.5be0c2d1948f7a16". It can be written to a file or a web
// page and parsed back later (`pid::parse`); when that node has since restarted, the pid is reported
// dead, never delivered to some other process.
//
// pids are small, trivially copyable values; copy them freely, across threads too.
#pragma once

#include <coactor/result.hpp>

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace coactor {

class address_book;

class pid {
 public:
  constexpr pid() noexcept = default;
  constexpr pid(std::uint64_t node_incarnation, std::uint64_t id, std::uint32_t slot,
                std::uint32_t address_index = 0) noexcept
      : incarnation_(node_incarnation), id_(id), slot_(slot), address_(address_index) {}

  /// The incarnation of the node this process runs on (a random number drawn at every start of that
  /// node): it tells this life of the node from earlier and later ones.
  constexpr std::uint64_t incarnation() const noexcept { return incarnation_; }
  /// The process id, unique within its node incarnation.
  constexpr std::uint64_t id() const noexcept { return id_; }
  /// The process's slot in its node's process table.
  constexpr std::uint32_t slot() const noexcept { return slot_; }

  /// The address of the process's node when known ("127.0.0.1:9000"), else empty.
  std::string_view address() const noexcept;
  /// For the runtime: the index of that address in its address book (address_book.hpp), 0 if none.
  constexpr std::uint32_t address_index() const noexcept { return address_; }

  constexpr bool is_null() const noexcept { return id_ == 0; }
  constexpr explicit operator bool() const noexcept { return id_ != 0; }

  /// Two pids are equal when they name the same process (the address is not part of the identity).
  friend constexpr bool operator==(const pid& a, const pid& b) noexcept {
    return a.incarnation_ == b.incarnation_ && a.id_ == b.id_ && a.slot_ == b.slot_;
  }

  /// The string form (see above; "coactor://null" for the null pid); the address part is empty when not known.
  std::string to_string() const;
  /// The string form with `address` as the node's address (what a node uses for its own pids).
  std::string to_string(std::string_view address) const;

  /// Parses the string form ("coactor://null" is the null pid). errc::bad_message if it is not one,
  /// errc::too_large if its address is new and the address book (by default the process book) is full.
  static result<pid> parse(std::string_view text);
  static result<pid> parse(std::string_view text, address_book& addresses);

 private:
  std::uint64_t incarnation_ = 0;
  std::uint64_t id_ = 0;
  std::uint32_t slot_ = 0;
  std::uint32_t address_ = 0;
};

}  // namespace coactor

template <>
struct std::hash<coactor::pid> {
  std::size_t operator()(const coactor::pid& p) const noexcept {
    return static_cast<std::size_t>(p.id() ^ (p.incarnation() * 0x9e3779b97f4a7c15ull));
  }
};
