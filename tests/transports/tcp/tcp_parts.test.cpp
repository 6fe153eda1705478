// The pieces of the shared TCP machinery that can be tested without sockets: addresses and frame queues.
#include <coactor/transports/tcp/address.hpp>
#include <coactor/transports/tcp/frame_queue.hpp>
#include <coactor/wire/frame.hpp>

#include <catch2/catch.hpp>

using namespace coactor;

namespace {

std::string frame_of(std::size_t body_bytes, char fill) {
  std::string out;
  const std::size_t start = wire::begin_frame(out, wire::frame_kind::message, codec::binary, 0);
  out.append(body_bytes, fill);
  wire::end_frame(out, start);
  return out;
}

}  // namespace

TEST_CASE("tcp address: a node_address with a port", "[tcp][parts]") {
  auto a = tcp::parse_address("127.0.0.1:9000");
  REQUIRE(a);
  CHECK(*a == node_address{"127.0.0.1", 9000});
  auto b = tcp::parse_address("[::1]:0");
  REQUIRE(b);
  CHECK(*b == node_address{"::1", 0});
  for (const char* bad : {"", "127.0.0.1", "localhost", ":80", "host:", "host:65536", "::1:80", "[::1]80", "[::1"}) {
    INFO(bad);
    auto r = tcp::parse_address(bad);
    REQUIRE_FALSE(r);
    CHECK(r.error() == errc::bad_message);
  }
}

TEST_CASE("tcp frame_queue: batches at frame boundaries, prepend, split", "[tcp][parts]") {
  tcp::frame_queue q;
  const std::string f1 = frame_of(10, 'a'), f2 = frame_of(20, 'b'), f3 = frame_of(30, 'c');
  q.append(f1);
  q.append(f2);
  q.append(f3);
  CHECK(q.frames() == 3);
  CHECK(q.bytes() == f1.size() + f2.size() + f3.size());
  CHECK(tcp::frame_queue::count(q.view()) == 3);

  std::string batch;
  CHECK(q.take(batch, f1.size() + f2.size()) == 2);  // exactly two fit
  CHECK(batch == f1 + f2);
  CHECK(q.frames() == 1);
  batch.clear();
  CHECK(q.take(batch, 1) == 1);  // too large for the limit: goes alone
  CHECK(batch == f3);
  CHECK(q.empty());

  tcp::frame_queue front, back;
  front.append(f1);
  back.append(f2);
  back.append(f3);
  back.prepend(std::move(front));
  CHECK(front.empty());
  CHECK(back.view() == f1 + f2 + f3);
  tcp::frame_queue first;
  back.split_front(2, first);
  CHECK(first.view() == f1 + f2);
  CHECK(first.frames() == 2);
  CHECK(back.view() == f3);

  std::vector<std::string> seen;
  first.for_each([&](std::string_view f) { seen.emplace_back(f); });
  CHECK(seen == std::vector<std::string>{f1, f2});

  std::size_t complete = 0;
  const std::string partial = f1 + f2.substr(0, 7);
  CHECK(tcp::frame_queue::count(partial, &complete) == 1);
  CHECK(complete == f1.size());
}
