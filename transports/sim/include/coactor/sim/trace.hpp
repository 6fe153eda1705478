// coactor sim: trace, what happened in a simulation, in order: who sent what to whom, at which virtual
// time, what the network did to it, and what reached which mailbox.
//
// Print it to see why a seed failed; compare hashes of two runs to check that a seed replays exactly.
#pragma once

#include <coactor/pid.hpp>
#include <coactor/time.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace coactor::sim {

enum class event_kind : std::uint8_t {
  sent,        ///< a frame left a node
  delivered,   ///< a frame reached a node
  dropped,     ///< the network lost a frame (detail: partition, loss, node down)
  duplicated,  ///< the network will deliver a frame twice
  refused,     ///< nobody listens at the frame's address: the sender is told
  mailbox,     ///< a message was put in a process's mailbox (local sends too)
  crashed,     ///< a node crashed
  restarted,   ///< a node restarted (a new incarnation)
  partitioned, ///< a link was cut (from -> to)
  healed,      ///< a link was restored (from -> to)
  reported,    ///< a node's error hook was called (detail: the error)
  peer_up,     ///< to_node's transport reports from_node up
  peer_down,   ///< to_node's transport reports from_node down (detail: why)
};

std::string_view to_string(event_kind k) noexcept;

struct trace_event {
  time_point at{};
  event_kind kind{};
  std::string from_node;  ///< node names
  std::string to_node;
  pid from;               ///< sending process (null if none)
  pid to;                 ///< target process (null when sent to a name)
  std::string to_name;    ///< target name, when sent to a name
  std::string type;       ///< the message's wire type name
  std::string detail;     ///< reason for drops and refusals; frame kind (request, reply...) otherwise

  /// One line: "  12.500ms  delivered   a -> b  <pid> -> <pid>  app::ping  (request)".
  std::string to_string() const;
};

class trace {
 public:
  /// Keep events (for printing and expectations); when false only the hash is kept (faster).
  explicit trace(bool keep_events = true) : keep_(keep_events) {}

  bool keeps_events() const noexcept { return keep_; }

  void add(trace_event e);
  /// The cheap form for frames when events are not kept: the hash covers the frame's bytes through
  /// their digest(), computed once per frame however many events the frame has.
  void add_frame(time_point at, event_kind kind, std::uint32_t from_node, std::uint32_t to_node, std::uint64_t frame_digest) noexcept;
  /// What add_frame() takes for a frame's bytes (equal bytes, equal digests).
  static std::uint64_t digest(std::string_view frame) noexcept;
  /// The cheap form for mailbox deliveries when events are not kept.
  void add_delivery(time_point at, const pid& from, const pid& to, std::string_view type) noexcept;

  const std::vector<trace_event>& events() const noexcept { return events_; }
  /// A hash of every event so far (FNV-1a over each event's fields): equal runs give equal hashes.
  std::uint64_t hash() const noexcept { return hash_; }
  std::size_t size() const noexcept { return count_; }
  /// The whole trace, one event per line (or the last `tail` events).
  std::string print(std::size_t tail = 0) const;

 private:
  bool keep_;
  std::vector<trace_event> events_;
  std::uint64_t hash_ = 0xcbf29ce484222325ull;
  std::size_t count_ = 0;
};

}  // namespace coactor::sim
