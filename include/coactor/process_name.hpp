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

#include <coactor/result.hpp>

#include <string>
#include <string_view>

namespace coactor {

struct process_name {
  std::string node;  ///< the node's address ("host:port"); empty: this node
  std::string name;

  std::string to_string() const;
  /// Parses the string form. errc::bad_message if it is not one.
  static result<process_name> parse(std::string_view text);

  friend bool operator==(const process_name&, const process_name&) = default;
};

}  // namespace coactor
