// Asio inside processes: use_process as a completion token, on the pool's own io_context.
#include "support.hpp"

#include <coactor/asio.hpp>

#include <asio/connect.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/post.hpp>
#include <asio/read.hpp>
#include <asio/steady_timer.hpp>
#include <asio/write.hpp>

#include <catch2/catch.hpp>

#include <string>
#include <tuple>
#include <vector>

using namespace coactor;
using namespace coactor_test;

TEST_CASE("an Asio timer awaited with use_process returns result<void>", "[asio]") {
  const unsigned threads = GENERATE(1u, 2u);
  CAPTURE(threads);
  node n({.threads = threads});
  error_log errors(n);
  std::atomic<bool> ok{false};
  std::atomic<double> waited_ms{0};
  std::atomic<int> mail{0};
  pid waiter = n.spawn([&](context self) -> process {
    asio::steady_timer timer(coactor::io_context(self), 20ms);
    auto start = std::chrono::steady_clock::now();
    result<void> r = co_await timer.async_wait(coactor::use_process);
    waited_ms = ms_since(start);
    ok = static_cast<bool>(r);
    auto m = co_await self.receive<int>(0ns);  // mail that came meanwhile is still queued
    mail = m ? **m : -1;
  });
  n.send(waiter, 5);
  REQUIRE(run_within(n));
  CHECK(ok);
  CHECK(waited_ms >= 20.0);
  CHECK(mail == 5);
  CHECK(errors.size() == 0);
}

TEST_CASE("use_process maps every completion signature", "[asio]") {
  node n({.threads = 1});
  error_log errors(n);
  bool posted = false;
  std::tuple<int, std::string> values;
  int value = 0;
  std::error_code failure;
  n.spawn([&](context self) -> process {
    asio::io_context& io = coactor::io_context(self);
    co_await asio::post(io, coactor::use_process);  // void() -> void
    posted = true;

    auto pair = [&io](auto handler) {
      asio::post(io, [h = std::move(handler)]() mutable { h(7, std::string("seven")); });
    };
    values = co_await asio::async_initiate<const use_process_t&, void(int, std::string)>(pair, coactor::use_process);

    auto ok = [&io](auto handler) {
      asio::post(io, [h = std::move(handler)]() mutable { h(std::error_code(), 11); });
    };
    result<int> r = co_await asio::async_initiate<const use_process_t&, void(std::error_code, int)>(ok, coactor::use_process);
    value = r ? *r : -1;

    auto fail = [&io](auto handler) {
      asio::post(io, [h = std::move(handler)]() mutable { h(make_error_code(asio::error::host_not_found), 0); });
    };
    result<int> f = co_await asio::async_initiate<const use_process_t&, void(std::error_code, int)>(fail, coactor::use_process);
    if (!f) failure = f.error().code();
  });
  REQUIRE(run_within(n));
  CHECK(posted);
  CHECK(std::get<0>(values) == 7);
  CHECK(std::get<1>(values) == "seven");
  CHECK(value == 11);
  CHECK(failure == asio::error::host_not_found);
  CHECK(errors.size() == 0);
}

TEST_CASE("a failed Asio operation comes back as an error result", "[asio]") {
  node n({.threads = 1});
  error_log errors(n);
  std::error_code code;
  bool connected = true;
  n.spawn([&](context self) -> process {
    asio::io_context& io = coactor::io_context(self);
    asio::ip::tcp::endpoint closed;
    {
      asio::ip::tcp::acceptor probe(io, {asio::ip::make_address("127.0.0.1"), 0});
      closed = probe.local_endpoint();
    }  // closed: nothing listens on that port now
    asio::ip::tcp::socket socket(io);
    result<void> r = co_await socket.async_connect(closed, coactor::use_process);
    connected = static_cast<bool>(r);
    if (!r) code = r.error().code();
  });
  REQUIRE(run_within(n));
  CHECK_FALSE(connected);
  CHECK(code == asio::error::connection_refused);
  CHECK(errors.size() == 0);
}

TEST_CASE("a TCP echo over 127.0.0.1 between two processes", "[asio][tcp]") {
  const unsigned threads = GENERATE(1u, 2u);
  CAPTURE(threads);
  node n({.threads = threads});
  error_log errors(n);
  const std::vector<std::string> lines = {"hello", "coactor over tcp", std::string(10000, 'x'), "bye"};
  std::mutex m;
  std::vector<std::string> echoed;
  std::string server_end, client_failure;
  std::atomic<std::size_t> server_bytes{0};

  n.spawn([&](context self) -> process {
    asio::io_context& io = coactor::io_context(self);
    asio::ip::tcp::acceptor acceptor(io, {asio::ip::make_address("127.0.0.1"), 0});
    const unsigned short port = acceptor.local_endpoint().port();

    self.spawn([&](context me, unsigned short to) -> process {
      asio::ip::tcp::socket socket(coactor::io_context(me));
      result<void> c = co_await socket.async_connect({asio::ip::make_address("127.0.0.1"), to}, coactor::use_process);
      if (!c) {
        std::lock_guard lock(m);
        client_failure = c.error().message();
        co_return;
      }
      for (const std::string& line : lines) {
        result<std::size_t> w = co_await asio::async_write(socket, asio::buffer(line), coactor::use_process);
        std::string back(line.size(), '\0');
        result<std::size_t> r = co_await asio::async_read(socket, asio::buffer(back), coactor::use_process);
        std::lock_guard lock(m);
        if (!w || !r) {
          client_failure = (!w ? w.error() : r.error()).message();
          co_return;
        }
        echoed.push_back(back);
      }
      socket.shutdown(asio::ip::tcp::socket::shutdown_send);
      char extra;
      result<std::size_t> eof = co_await socket.async_read_some(asio::buffer(&extra, 1), coactor::use_process);
      if (eof || eof.error().code() != asio::error::eof) {
        std::lock_guard lock(m);
        client_failure = "expected end of stream";
      }
    }, port);

    result<asio::ip::tcp::socket> accepted = co_await acceptor.async_accept(coactor::use_process);
    if (!accepted) {
      std::lock_guard lock(m);
      server_end = "accept: " + accepted.error().message();
      co_return;
    }
    asio::ip::tcp::socket& socket = *accepted;
    char buffer[4096];
    for (;;) {
      result<std::size_t> r = co_await socket.async_read_some(asio::buffer(buffer), coactor::use_process);
      if (!r) {
        std::lock_guard lock(m);
        server_end = r.error().code() == asio::error::eof ? "eof" : r.error().message();
        break;
      }
      server_bytes += *r;
      result<std::size_t> w = co_await asio::async_write(socket, asio::buffer(buffer, *r), coactor::use_process);
      if (!w) break;
    }
  });
  REQUIRE(run_within(n));
  CHECK(client_failure.empty());
  CHECK(echoed == lines);
  CHECK(server_end == "eof");
  std::size_t total = 0;
  for (auto& l : lines) total += l.size();
  CHECK(server_bytes == total);
  CHECK(n.stats().processes == 0);
  CHECK(errors.size() == 0);
}

TEST_CASE("destroying a node with a process waiting on an Asio operation", "[asio][shutdown]") {
  const unsigned threads = GENERATE(1u, 2u);
  CAPTURE(threads);
  auto capture = std::make_shared<int>(0);
  std::atomic<bool> waiting{false};
  std::atomic<bool> resumed{false};
  {
    node n({.threads = threads});
    error_log errors(n);
    n.spawn([capture, &waiting, &resumed](context self) -> process {
      asio::steady_timer timer(coactor::io_context(self), 1h);
      waiting = true;
      (void)co_await timer.async_wait(coactor::use_process);
      resumed = true;
    });
    n.spawn([&](context self) -> process {
      while (!waiting) co_await self.sleep(1ms);
      co_await self.sleep(2ms);
      self.node().stop();
    });
    REQUIRE(run_within(n));
    CHECK(capture.use_count() == 2);
  }
  CHECK(capture.use_count() == 1);
  CHECK_FALSE(resumed);
}

// A node on a shared pool destroyed while one of its processes awaits an Asio operation: destroying the
// frame destroys the timer, which cancels the wait; the completion is queued on the pool's io_context
// and runs at the pool's next run(), when the process is gone.
TEST_CASE("a node on a shared pool destroyed while a process awaits an Asio operation",
          "[asio][shutdown]") {
  thread_pool pool(1);
  node other(pool, {.name = "other"});
  auto capture = std::make_shared<int>(0);
  {
    node n(pool, {.name = "short-lived"});
    n.spawn([capture](context self) -> process {
      asio::steady_timer timer(coactor::io_context(self), 1h);
      (void)co_await timer.async_wait(coactor::use_process);
    });
    other.spawn([](context self) -> process {
      co_await self.yield_now();
      self.node().stop();
    });
    pool.run();
    CHECK(capture.use_count() == 2);
  }
  CHECK(capture.use_count() == 1);
  int ran = 0;
  other.spawn([&](context) -> process {
    ++ran;
    co_return;
  });
  pool.run();
  CHECK(ran == 1);
}
