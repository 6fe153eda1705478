// coactor detail: router, the node's side of its transport.
//
// Outgoing: an envelope for a process of another node (by pid, or by registered name at an address) is
// encoded into one frame, straight into a per-thread scratch buffer, and handed to the transport.
// Incoming: a frame from a peer is parsed, its message decoded (or kept opaque when its type is unknown
// here), and routed to the target process like a local send. Whatever cannot be encoded, decoded,
// resolved or delivered becomes a failure reply (for a request) or a counted, reported dead letter.
#pragma once

#include <coactor/address_book.hpp>
#include <coactor/codec.hpp>
#include <coactor/detail/envelope.hpp>
#include <coactor/peer_stats.hpp>
#include <coactor/pid.hpp>
#include <coactor/result.hpp>
#include <coactor/transport.hpp>
#include <coactor/wire/frame.hpp>

#include <atomic>
#include <memory>
#include <string>
#include <string_view>

namespace coactor::detail {

class node_core;

class router final : public transport_host {
 public:
  router(node_core& node, std::unique_ptr<transport> t, codec format, const decode_limits& limits,
         std::shared_ptr<address_book> addresses);
  ~router() override;

  /// Starts accepting connections; sets this node's address.
  result<node_address> listen(std::string_view address);
  /// Stops the transport (before the node goes away).
  void shutdown();

  /// Sends `e` to `to`, a process of another node. Takes ownership of `e`.
  void send(const pid& to, envelope* e) noexcept;
  /// Sends `e` to whatever process holds `name` on the node at `address`. Takes ownership of `e`.
  void send_to_name(std::string_view address, std::string_view name, envelope* e) noexcept;

  /// The book that other nodes' addresses are entered in.
  address_book& addresses() const noexcept { return *book_; }

  std::uint64_t bad_frames() const noexcept { return bad_frames_.load(std::memory_order_relaxed); }
  std::vector<peer_stats> peers() const { return transport_->peers(); }
  bool has_room(const peer_ref& peer) const { return transport_->has_room(peer); }

  // transport_host
  const node_identity& identity() const noexcept override { return identity_; }
  coactor::scheduler& scheduler() noexcept override;
  result<void> deliver(const node_identity& from, std::string_view frame) override;
  void undeliverable(std::string_view frame, const error& why) override;
  void report(const error& what) override;
  void peer_up(const node_identity& peer) override;
  void peer_down(const node_identity& peer, const error& why) override;
  void room(const node_identity& peer) override;

 private:
  void send_frame(const peer_ref& peer, const pid& to, std::string_view to_name, envelope* e) noexcept;
  result<void> encode(std::string& out, const pid& to, std::string_view to_name, const envelope& e);
  envelope* decode(const wire::frame_view& f, error& why);

  node_core& node_;
  std::unique_ptr<transport> transport_;
  node_identity identity_;
  decode_limits limits_;
  std::shared_ptr<address_book> addresses_;  // null when the node uses the process book
  address_book* book_;                       // addresses_, or the process book
  std::atomic<std::uint64_t> bad_frames_{0};
};

}  // namespace coactor::detail
