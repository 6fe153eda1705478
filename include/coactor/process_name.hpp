// coactor: process_name, a process known by its registered name on some node.
//
//     coactor::process_name logger{"127.0.0.1:9000", "logger"};   // the post's <node> "logger" <remote-process>
//     self.send(logger, std::string("Log Message!"));
//
// The name is looked up by the node that owns it, when the message arrives there, so it reaches whatever
// process holds the name at that moment. An empty node address means this node. A message to a name
// that nobody holds is counted and reported (a request fails with errc::no_such_name). Replies come from
// the process itself: `message::sender()` of a reply is its pid.
//
// String form: "coactor://<address>/name/<name>", e.g. "coactor://127.0.0.1:9000/name/logger".
#pragma once

#include <coactor/node_address.hpp>
#include <coactor/result.hpp>

#include <string>
#include <string_view>
#include <utility>

namespace coactor {

struct process_name {
  std::string address;  ///< the node's address ("host:port", node_address::to_string()); empty: this node
  std::string name;     ///< the registered name

  process_name() = default;
  /// `name` on the node at `address` ("" for this node).
  process_name(std::string address, std::string name) noexcept
      : address(std::move(address)), name(std::move(name)) {}
  process_name(const node_address& address, std::string name) : process_name(address.to_string(), std::move(name)) {}
  // (Constructors rather than an aggregate: g++ 12 mishandles brace-built aggregates inside co_await,
  // and a process_name is often written right in a request.)

  std::string to_string() const;
  /// Parses the string form. errc::bad_message if it is not one.
  static result<process_name> parse(std::string_view text);

  friend bool operator==(const process_name&, const process_name&) = default;
};

}  // namespace coactor
