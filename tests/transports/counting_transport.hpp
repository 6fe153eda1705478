// A transport of one's own, for the tests: a decorator that counts the frames another transport carries,
// and records what it says of peers coming and going. It is a transport to its node and a transport_host
// to the transport it wraps; everything else passes through. The same shape delays, drops or logs frames.
#pragma once

#include <coactor/peer_stats.hpp>
#include <coactor/transport.hpp>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace transport_test {

/// A peer_up or peer_down the wrapped transport made, and when.
struct peer_event {
  bool up = false;
  coactor::node_identity peer;
  coactor::error why{std::error_code{}};
  std::chrono::steady_clock::time_point at;
  int given_back_before = 0;  ///< frames given back (undeliverable) before it
};

struct frame_counts {
  std::atomic<int> sent{0};
  std::atomic<int> delivered{0};
  std::atomic<int> undeliverable{0};

  void add(peer_event e) {
    std::lock_guard lock(mutex_);
    peers_.push_back(std::move(e));
  }
  std::vector<peer_event> peer_events() const {
    std::lock_guard lock(mutex_);
    return peers_;
  }
  /// The events about the peer with `incarnation` (0: every peer), in order.
  std::vector<peer_event> about(std::uint64_t incarnation = 0) const {
    std::vector<peer_event> out;
    for (auto& e : peer_events())
      if (incarnation == 0 || e.peer.incarnation == incarnation) out.push_back(e);
    return out;
  }
  std::size_t ups(std::uint64_t incarnation) const { return count(incarnation, true); }
  std::size_t downs(std::uint64_t incarnation) const { return count(incarnation, false); }
  /// One line per event, for messages.
  std::string dump() const {
    std::string out;
    for (auto& e : peer_events())
      out += std::string(e.up ? "  up   " : "  down ") + e.peer.name + " " + std::to_string(e.peer.incarnation) + " " +
             e.peer.address + (e.up ? "" : " (" + e.why.message() + ")") + "\n";
    return out.empty() ? "  (nothing)\n" : out;
  }

 private:
  std::size_t count(std::uint64_t incarnation, bool up) const {
    std::size_t n = 0;
    for (auto& e : about(incarnation)) n += e.up == up;
    return n;
  }
  mutable std::mutex mutex_;
  std::vector<peer_event> peers_;
};

class counting_transport final : public coactor::transport, private coactor::transport_host {
 public:
  counting_transport(std::unique_ptr<coactor::transport> inner, std::shared_ptr<frame_counts> counts)
      : inner_(std::move(inner)), counts_(std::move(counts)) {}

  // transport: what the node calls.
  void attach(coactor::transport_host& host) override {
    host_ = &host;
    inner_->attach(*this);
  }
  coactor::result<coactor::node_address> listen(std::string_view address) override { return inner_->listen(address); }
  void send(const coactor::peer_ref& peer, std::string_view frame) override {
    counts_->sent.fetch_add(1);
    inner_->send(peer, frame);
  }
  void shutdown() override { inner_->shutdown(); }
  std::vector<coactor::peer_stats> peers() const override { return inner_->peers(); }
  bool has_room(const coactor::peer_ref& peer) const override { return inner_->has_room(peer); }

 private:
  // transport_host: what the wrapped transport calls.
  const coactor::node_identity& identity() const noexcept override { return host_->identity(); }
  coactor::scheduler& scheduler() noexcept override { return host_->scheduler(); }
  coactor::result<void> deliver(const coactor::node_identity& from, std::string_view frame) override {
    counts_->delivered.fetch_add(1);
    return host_->deliver(from, frame);
  }
  void undeliverable(std::string_view frame, const coactor::error& why) override {
    counts_->undeliverable.fetch_add(1);
    host_->undeliverable(frame, why);
  }
  void report(const coactor::error& what) override { host_->report(what); }
  void peer_up(const coactor::node_identity& peer) override {
    counts_->add({true, peer, coactor::error(std::error_code{}), std::chrono::steady_clock::now(), counts_->undeliverable.load()});
    host_->peer_up(peer);
  }
  void peer_down(const coactor::node_identity& peer, const coactor::error& why) override {
    counts_->add({false, peer, why, std::chrono::steady_clock::now(), counts_->undeliverable.load()});
    host_->peer_down(peer, why);
  }
  void room(const coactor::node_identity& peer) override { host_->room(peer); }

  std::unique_ptr<coactor::transport> inner_;
  std::shared_ptr<frame_counts> counts_;
  coactor::transport_host* host_ = nullptr;
};

}  // namespace transport_test
