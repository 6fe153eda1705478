// A transport of one's own: a decorator that counts the frames another transport carries. It is a
// transport to its node and a transport_host to the transport it wraps; everything else passes through.
// The same shape delays, drops or logs frames.
#include "tcp/tcp_support.hpp"

#include <catch2/catch.hpp>

using namespace tcp_test;

namespace {

struct frame_counts {
  std::atomic<int> sent{0};
  std::atomic<int> delivered{0};
  std::atomic<int> undeliverable{0};
};

class counting_transport final : public transport, private transport_host {
 public:
  counting_transport(std::unique_ptr<transport> inner, std::shared_ptr<frame_counts> counts)
      : inner_(std::move(inner)), counts_(std::move(counts)) {}

  // transport: what the node calls.
  void attach(transport_host& host) override {
    host_ = &host;
    inner_->attach(*this);
  }
  result<node_address> listen(std::string_view address) override { return inner_->listen(address); }
  void send(const peer_ref& peer, std::string_view frame) override {
    counts_->sent.fetch_add(1);
    inner_->send(peer, frame);
  }
  void shutdown() override { inner_->shutdown(); }

 private:
  // transport_host: what the wrapped transport calls.
  const node_identity& identity() const noexcept override { return host_->identity(); }
  coactor::scheduler& scheduler() noexcept override { return host_->scheduler(); }
  result<void> deliver(const node_identity& from, std::string_view frame) override {
    counts_->delivered.fetch_add(1);
    return host_->deliver(from, frame);
  }
  void undeliverable(std::string_view frame, const error& why) override {
    counts_->undeliverable.fetch_add(1);
    host_->undeliverable(frame, why);
  }
  void report(const error& what) override { host_->report(what); }

  std::unique_ptr<transport> inner_;
  std::shared_ptr<frame_counts> counts_;
  transport_host* host_ = nullptr;
};

}  // namespace

TEMPLATE_TEST_CASE("a decorator transport counts the frames of the transport it wraps", "[tcp][decorator]", pooled,
                   per_message) {
  auto at_server = std::make_shared<frame_counts>();
  auto at_client = std::make_shared<frame_counts>();
  test_node server("server", std::make_unique<counting_transport>(TestType::make(), at_server));
  server.listen();
  const process_name name = server.serve_here();
  test_node client("client", std::make_unique<counting_transport>(TestType::make(), at_client));
  client.listen();

  int answered = 0;
  std::optional<error> lost;
  client->spawn([&, name](context self) -> process {
    for (int i = 0; i < 10; ++i) {
      if (auto r = co_await self.request<std::string>(name, coactor::make<ping>(i, "counted", pid{}), 10s)) ++answered;
    }
    for (int i = 0; i < 5; ++i) self.send(name, seq{i});
    const process_name nowhere{closed_address(), "server"};
    auto r = co_await self.request(nowhere, 1, 10s);
    if (!r) lost = r.error();
    auto c = co_await self.request<count_reply>(name, count_query{}, 10s);  // all 5 seq have arrived
    if (c && c->received == 5) ++answered;
  });
  server.start();
  client.start();
  REQUIRE(client.wait(20s));
  server.stop();
  CHECK(answered == 11);
  REQUIRE(lost);
  CHECK(*lost == errc::unreachable);
  // client -> server: 10 pings, 5 seq, 1 count_query; 1 request to nowhere, which came back
  CHECK(at_client->sent.load() == 17);
  CHECK(at_client->undeliverable.load() == 1);
  CHECK(at_server->delivered.load() == 16);
  // server -> client: 11 replies
  CHECK(at_server->sent.load() == 11);
  CHECK(at_client->delivered.load() == 11);
  CHECK(at_server->undeliverable.load() == 0);
}
