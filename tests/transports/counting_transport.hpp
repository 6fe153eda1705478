// A transport of one's own, for the tests: a decorator that counts the frames another transport carries.
// It is a transport to its node and a transport_host to the transport it wraps; everything else passes
// through. The same shape delays, drops or logs frames.
#pragma once

#include <coactor/transport.hpp>

#include <atomic>
#include <memory>
#include <string_view>

namespace transport_test {

struct frame_counts {
  std::atomic<int> sent{0};
  std::atomic<int> delivered{0};
  std::atomic<int> undeliverable{0};
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
  void peer_up(const coactor::node_identity& peer) override { host_->peer_up(peer); }
  void peer_down(const coactor::node_identity& peer, const coactor::error& why) override { host_->peer_down(peer, why); }

  std::unique_ptr<coactor::transport> inner_;
  std::shared_ptr<frame_counts> counts_;
  coactor::transport_host* host_ = nullptr;
};

}  // namespace transport_test
