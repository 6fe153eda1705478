// Messages between two OS processes on loopback, for each transport and codec, next to floors measured
// in the same run with plain Asio and no library. Prints one JSON object per line:
//
//   remote-rtt         20,000 synchronous round trips of a 64-byte payload: mean µs, with p50 and p99
//   remote-throughput  one-way 64-byte messages from one process to another: messages/s
//                      (1,000,000 for pooled and loopback; fewer for per-message, see "n")
//   per-message-cost   20,000 one-way messages through per-message, and 20,000 connect+write+close
//                      through raw-connect: µs per message
//
// Transports: per-message, pooled (a server node in a child process), loopback (both nodes in this
// process); codecs: binary, json; floors: raw-tcp (one persistent socket: ping-pong, and a one-way
// stream), raw-connect (a connection per message). Each figure is the median of --runs runs (min and max
// given too).
//
//   bench_remote [--runs R] [--only WORKLOAD] [--scale F]
//   bench_remote --serve TRANSPORT CODEC     (the child: a node with "echo" and "sink")
//   bench_remote --serve-raw                 (the child for the floors)
#include "support.hpp"

#include <coactor/asio.hpp>
#include <coactor/coactor.hpp>
#include <coactor/transports/loopback.hpp>
#include <coactor/transports/tcp_per_message.hpp>
#include <coactor/transports/tcp_pooled.hpp>

#include <asio/connect.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/read.hpp>
#include <asio/write.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace bench {

std::unique_ptr<coactor::transport> make_transport(const std::string& name,
                                                   const std::shared_ptr<coactor::loopback_network>& net) {
  if (name == "per-message") return std::make_unique<coactor::tcp_per_message_transport>();
  if (name == "per-message-pipelined")  // several connections to a peer at once: no ordering guarantee
    return std::make_unique<coactor::tcp_per_message_transport>(coactor::tcp_per_message_options{.max_in_flight_per_peer = 16});
  if (name == "pooled") return std::make_unique<coactor::tcp_pooled_transport>();
  return std::make_unique<coactor::loopback_transport>(net);
}

coactor::codec codec_named(const std::string& name) { return name == "json" ? coactor::codec::json : coactor::codec::binary; }

int serve(const std::string& transport, const std::string& codec) {
  return serve_node(make_transport(transport, nullptr), codec_named(codec));
}

figure run_coactor(const std::string& program, const std::string& transport, const std::string& codec,
                   const std::string& workload, std::uint64_t n) {
  auto net = std::make_shared<coactor::loopback_network>();
  std::unique_ptr<child_process> server_process;
  std::unique_ptr<coactor::node> server_node;
  std::unique_ptr<std::thread> server_thread;
  std::string address;
  if (transport == "loopback") {
    server_node = std::make_unique<coactor::node>(coactor::node_options{
        .name = "bench-server", .threads = 1, .transport = make_transport(transport, net), .format = codec_named(codec)});
    address = server_node->listen("server:0").value().to_string();
    start_server(*server_node);
    server_thread = std::make_unique<std::thread>([&] { server_node->run(); });
  } else {
    server_process = std::make_unique<child_process>(program, std::vector<std::string>{"--serve", transport, codec});
    address = server_process->address;
  }
  figure f;
  {
    coactor::node client({.name = "bench-client", .threads = 1, .transport = make_transport(transport, net),
                          .format = codec_named(codec)});
    client.listen(transport == "loopback" ? "client:0" : "127.0.0.1:0").value();
    f = measure(client, address, workload, n);
  }
  if (server_thread) {
    server_node->stop();
    server_thread->join();
  }
  return f;
}

// ---- floors: plain Asio ----

// The raw server: on each connection, reads 4-byte-length-prefixed messages; mode byte first: 'e' echoes
// each, 's' counts them (reading in bulk) and answers the count after a zero-length message, 'c' reads
// one message and closes.
int serve_raw() {
  asio::io_context io;
  asio::ip::tcp::acceptor acceptor(io, {asio::ip::make_address("127.0.0.1"), 0});
  std::printf("127.0.0.1:%u\n", acceptor.local_endpoint().port());
  std::fflush(stdout);
  for (;;) {
    auto socket = std::make_shared<asio::ip::tcp::socket>(acceptor.accept());
    socket->set_option(asio::ip::tcp::no_delay(true));
    std::thread([socket] {
      std::error_code ec;
      char mode;
      asio::read(*socket, asio::buffer(&mode, 1), ec);
      if (mode == 's') {  // count a stream of messages, reading in bulk as a real receiver would
        std::vector<char> buffer(1 << 20);
        std::size_t have = 0;
        std::uint64_t count = 0;
        while (!ec) {
          have += socket->read_some(asio::buffer(buffer.data() + have, buffer.size() - have), ec);
          std::size_t at = 0;
          while (have - at >= 4) {
            std::uint32_t length;
            std::memcpy(&length, buffer.data() + at, 4);
            if (length == 0) {
              asio::write(*socket, asio::buffer(&count, 8), ec);
              count = 0;
              at += 4;
              continue;
            }
            if (have - at < 4 + length) break;
            ++count;
            at += 4 + length;
          }
          std::memmove(buffer.data(), buffer.data() + at, have - at);
          have -= at;
        }
        return;
      }
      std::vector<char> buffer(1 << 16);
      while (!ec) {
        std::uint32_t length;
        asio::read(*socket, asio::buffer(&length, 4), ec);
        if (ec || length == 0) break;
        asio::read(*socket, asio::buffer(buffer.data(), length), ec);
        if (mode == 'a' && !ec) {  // acknowledge, then wait for the peer to close
          asio::write(*socket, asio::buffer("k", 1), ec);
          continue;
        }
        if (ec || mode == 'c') break;
        asio::write(*socket, std::array<asio::const_buffer, 2>{asio::buffer(&length, 4), asio::buffer(buffer.data(), length)}, ec);
      }
    }).detach();
  }
}

asio::ip::tcp::endpoint endpoint_of(const std::string& address) {
  auto colon = address.rfind(':');
  return {asio::ip::make_address(address.substr(0, colon)), static_cast<unsigned short>(std::stoi(address.substr(colon + 1)))};
}

figure run_raw(const std::string& program, const std::string& workload, std::uint64_t n) {
  child_process server(program, {"--serve-raw"});
  const auto where = endpoint_of(server.address);
  asio::io_context io;
  std::array<char, payload_bytes + 4> message{};
  const std::uint32_t length = payload_bytes;
  std::memcpy(message.data(), &length, 4);
  figure f;
  if (workload == "remote-rtt") {
    asio::ip::tcp::socket s(io);
    s.connect(where);
    s.set_option(asio::ip::tcp::no_delay(true));
    asio::write(s, asio::buffer("e", 1));
    std::vector<double> samples;
    std::array<char, payload_bytes + 4> answer{};
    for (std::uint64_t i = 0; i < n; ++i) {
      const auto start = clock_type::now();
      asio::write(s, asio::buffer(message));
      asio::read(s, asio::buffer(answer));
      samples.push_back(std::chrono::duration<double, std::micro>(clock_type::now() - start).count());
    }
    f = latency_figure(std::move(samples));
  } else if (workload == "remote-throughput") {
    asio::ip::tcp::socket s(io);
    s.connect(where);
    s.set_option(asio::ip::tcp::no_delay(true));
    asio::write(s, asio::buffer("s", 1));
    // Writes in batches, as a coalescing sender would.
    std::vector<char> batch;
    for (int i = 0; i < 256; ++i) batch.insert(batch.end(), message.begin(), message.end());
    const auto start = clock_type::now();
    std::uint64_t sent = 0;
    while (sent < n) {
      const std::uint64_t k = std::min<std::uint64_t>(256, n - sent);
      asio::write(s, asio::buffer(batch.data(), k * message.size()));
      sent += k;
    }
    const std::uint32_t zero = 0;
    asio::write(s, asio::buffer(&zero, 4));
    std::uint64_t counted = 0;
    asio::read(s, asio::buffer(&counted, 8));
    const double seconds = std::chrono::duration<double>(clock_type::now() - start).count();
    if (counted != n) std::abort();
    f.n = n;
    f.value = static_cast<double>(n) / seconds;
  } else if (workload == "per-message-cost-ack") {  // connect, write, wait for a 1-byte ack, reset
    const auto start = clock_type::now();
    for (std::uint64_t i = 0; i < n; ++i) {
      asio::ip::tcp::socket s(io);
      s.connect(where);
      s.set_option(asio::ip::tcp::no_delay(true));
      asio::write(s, std::array<asio::const_buffer, 2>{asio::buffer("a", 1), asio::buffer(message)});
      char ack;
      asio::read(s, asio::buffer(&ack, 1));
      s.set_option(asio::socket_base::linger(true, 0));
      s.close();
    }
    f.n = n;
    f.value = std::chrono::duration<double, std::micro>(clock_type::now() - start).count() / static_cast<double>(n);
  } else {  // per-message-cost: connect, write, close
    const auto start = clock_type::now();
    for (std::uint64_t i = 0; i < n; ++i) {
      asio::ip::tcp::socket s(io);
      s.connect(where);
      asio::write(s, std::array<asio::const_buffer, 2>{asio::buffer("c", 1), asio::buffer(message)});
      s.close();
    }
    f.n = n;
    f.value = std::chrono::duration<double, std::micro>(clock_type::now() - start).count() / static_cast<double>(n);
  }
  return f;
}

// ---- the driver ----

void print(const std::string& workload, const std::string& transport, const std::string& codec,
           std::vector<figure> runs) {
  std::sort(runs.begin(), runs.end(), [](const figure& a, const figure& b) { return a.value < b.value; });
  const figure& m = runs[runs.size() / 2];
  const bool latency = workload != "remote-throughput";
  std::printf("{\"workload\": \"%s\", \"transport\": \"%s\", \"codec\": \"%s\", \"payload\": %zu, \"value\": %.2f, "
              "\"unit\": \"%s\", \"min\": %.2f, \"max\": %.2f, \"runs\": %zu, \"n\": %llu",
              workload.c_str(), transport.c_str(), codec.c_str(), payload_bytes, m.value,
              latency ? "us" : "messages/s", runs.front().value, runs.back().value, runs.size(),
              static_cast<unsigned long long>(m.n));
  if (workload == "remote-rtt") std::printf(", \"p50\": %.2f, \"p99\": %.2f", m.p50, m.p99);
  std::printf("}\n");
  std::fflush(stdout);
}

}  // namespace bench

int main(int argc, char** argv) {
  using namespace bench;
  if (argc >= 4 && std::strcmp(argv[1], "--serve") == 0) return serve(argv[2], argv[3]);
  if (argc >= 2 && std::strcmp(argv[1], "--serve-raw") == 0) return serve_raw();
  int runs = 3;
  double scale = 1.0;
  std::string only, only_transport, only_codec;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--runs" && i + 1 < argc) runs = std::stoi(argv[++i]);
    else if (a == "--transport" && i + 1 < argc) only_transport = argv[++i];
    else if (a == "--codec" && i + 1 < argc) only_codec = argv[++i];
    else if (a == "--scale" && i + 1 < argc) scale = std::stod(argv[++i]);
    else if (a == "--only" && i + 1 < argc) only = argv[++i];
    else {
      std::fprintf(stderr, "usage: %s [--runs R] [--only WORKLOAD] [--transport T] [--codec C] [--scale F]\n", argv[0]);
      return 2;
    }
  }
  const std::string path = self_path();
  auto count = [&](double base) { return static_cast<std::uint64_t>(std::max(1.0, base * scale)); };
  auto want = [&](const char* w) { return only.empty() || only == w; };
  auto with = [&](const char* transport, const char* codec) {
    return (only_transport.empty() || only_transport == transport) && (only_codec.empty() || only_codec == codec);
  };
  auto repeat = [&](auto fn) {
    std::vector<figure> v;
    for (int i = 0; i < runs; ++i) v.push_back(fn());
    return v;
  };

  if (want("remote-rtt")) {
    if (with("raw-tcp", "none")) print("remote-rtt", "raw-tcp", "none", repeat([&] { return run_raw(path, "remote-rtt", count(20000)); }));
    for (const char* transport : {"pooled", "per-message", "loopback"})
      for (const char* codec : {"binary", "json"})
        if (with(transport, codec))
          print("remote-rtt", transport, codec, repeat([&] { return run_coactor(path, transport, codec, "remote-rtt", count(20000)); }));
  }
  if (want("remote-throughput")) {
    if (with("raw-tcp", "none"))
      print("remote-throughput", "raw-tcp", "none", repeat([&] { return run_raw(path, "remote-throughput", count(1000000)); }));
    for (const char* transport : {"pooled", "loopback", "per-message"})
      for (const char* codec : {"binary", "json"}) {
        if (!with(transport, codec)) continue;
        const std::uint64_t n = std::string(transport).rfind("per-message", 0) == 0 ? count(20000) : count(1000000);
        print("remote-throughput", transport, codec, repeat([&] { return run_coactor(path, transport, codec, "remote-throughput", n); }));
      }
  }
  if (want("per-message-cost")) {
    if (with("raw-connect", "none"))
      print("per-message-cost", "raw-connect", "none", repeat([&] { return run_raw(path, "per-message-cost", count(20000)); }));
    // Diagnostic floor: the same with an application-level acknowledgement and a reset, the shape of
    // tcp_per_message's exchange without the library.
    if (with("raw-connect-ack", "none"))
      print("per-message-cost", "raw-connect-ack", "none",
            repeat([&] { return run_raw(path, "per-message-cost-ack", count(20000)); }));
    for (const char* transport : {"per-message", "per-message-pipelined"})
      if (with(transport, "binary"))
        print("per-message-cost", transport, "binary",
              repeat([&] { return run_coactor(path, transport, "binary", "per-message-cost", count(20000)); }));
  }
}
