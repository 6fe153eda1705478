// Message encoding and decoding: coactor's binary and JSON codecs, and, as references, nlohmann/json's
// CBOR and MessagePack of the same data. Prints one JSON object per line.
//
//   bench_codec [--runs R] [--codec binary|json|cbor|msgpack] [--message small|large] [--run-ms MS]
//
//   small  {i32, a 16-byte string, a pid of another node}
//   large  6 fields, one of them a vector of 10 structs of 4 fields
//
// binary, json: coactor::binary / coactor::json encode into a reused string, and decode_into a fresh value
// (as a node does when a message arrives; so the decoded 16-byte string, one past the short-string
// buffer, costs a malloc and a free every time). The pid's node address is the same in every message, as
// in a stream from one peer: encoding and decoding find it in the thread's most recent address-book entry
// (see coactor/address_book.hpp) rather than in the book itself. cbor, msgpack: encode = build a nlohmann::json document from the
// struct (fields by name, through the same reflection) + to_cbor / to_msgpack into a reused buffer;
// decode = from_cbor / from_msgpack + read the fields back into a fresh struct.
//
// Each (codec, message) is checked to round trip, warmed up, then timed R times (default 7): a run times
// N encodes, then N decodes, N chosen so that each takes about --run-ms (default 100 ms). The line reports
// the medians over runs of ns per encode and per decode, the encoded size, and the min / median / max
// over runs of encode + decode. Times are the thread's CPU time (CLOCK_THREAD_CPUTIME_ID), so that other
// processes on a busy machine do not count; caches are still shared with them.
#include <coactor/codec/binary.hpp>
#include <coactor/codec/json.hpp>
#include <coactor/address_book.hpp>
#include <coactor/pid.hpp>
#include <coactor/reflect.hpp>

#include <nlohmann/json.hpp>

#include <time.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace bench {

struct small {
  std::int32_t n;
  std::string text;
  coactor::pid from;
};

struct line_item {
  std::uint32_t sku;
  std::string name;
  std::int32_t quantity;
  double price;
};

struct large {
  std::uint64_t id;
  std::string customer;
  std::vector<line_item> items;
  double total;
  bool paid;
  coactor::pid owner;
};

}  // namespace bench

namespace {

using namespace coactor;

// ---- the nlohmann/json reference: struct <-> document, by field name ----

template <class T>
nlohmann::json to_document(const T& v) {
  if constexpr (std::is_same_v<T, pid>) {
    return nlohmann::json::array({v.incarnation(), v.id(), v.slot(), v.address()});
  } else if constexpr (std::is_arithmetic_v<T> || std::is_same_v<T, std::string>) {
    return v;
  } else if constexpr (detail::is_vector<T>::value) {
    nlohmann::json a = nlohmann::json::array();
    for (const auto& item : v) a.push_back(to_document(item));
    return a;
  } else {
    nlohmann::json o = nlohmann::json::object();
    std::size_t i = 0;
    coactor::for_each_field(v, [&](const auto& field) { o[std::string(field_names<T>[i++])] = to_document(field); });
    return o;
  }
}

template <class T>
void from_document(const nlohmann::json& j, T& v) {
  if constexpr (std::is_same_v<T, pid>) {
    const auto address = j.at(3).get_ref<const std::string&>();
    v = pid(j.at(0).get<std::uint64_t>(), j.at(1).get<std::uint64_t>(), j.at(2).get<std::uint32_t>(),
            address.empty() ? 0 : address_book::process().intern(address));
  } else if constexpr (std::is_arithmetic_v<T> || std::is_same_v<T, std::string>) {
    j.get_to(v);
  } else if constexpr (detail::is_vector<T>::value) {
    v.clear();
    v.reserve(j.size());
    for (const auto& item : j) from_document(item, v.emplace_back());
  } else {
    std::size_t i = 0;
    coactor::for_each_field(v, [&](auto& field) { from_document(j.at(field_names<T>[i++]), field); });
  }
}

// ---- one codec: encode into a reused buffer, decode into a fresh value ----

enum class which { binary, json, cbor, msgpack };

template <class T>
struct codec_ops {
  which codec;
  std::string text;                 // binary, json
  std::vector<std::uint8_t> bytes;  // cbor, msgpack

  void encode(const T& v) {
    switch (codec) {
      case which::binary:
        text.clear();
        if (!binary::encode(v, text)) std::abort();
        return;
      case which::json:
        text.clear();
        if (!json::encode(v, text)) std::abort();
        return;
      case which::cbor:
        bytes.clear();
        nlohmann::json::to_cbor(to_document(v), bytes);
        return;
      case which::msgpack:
        bytes.clear();
        nlohmann::json::to_msgpack(to_document(v), bytes);
        return;
    }
  }

  std::size_t size() const { return codec == which::binary || codec == which::json ? text.size() : bytes.size(); }

  /// Decodes what encode() wrote into `v`.
  void decode(T& v) const {
    switch (codec) {
      case which::binary:
        if (!binary::decode_into(text, v)) std::abort();
        return;
      case which::json:
        if (!json::decode_into(text, v)) std::abort();
        return;
      case which::cbor:
        from_document(nlohmann::json::from_cbor(bytes), v);
        return;
      case which::msgpack:
        from_document(nlohmann::json::from_msgpack(bytes), v);
        return;
    }
  }
};

// ---- timing ----

volatile std::size_t sink;  // keeps results alive

/// The CPU time this thread has used, in ns: on a busy machine (other builds, other benchmarks) wall-clock
/// time would count the time the thread waits for a core.
double thread_cpu_ns() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) * 1e9 + static_cast<double>(t.tv_nsec);
}

template <class F>
double ns_per_call(long n, F&& f) {
  const double start = thread_cpu_ns();
  for (long i = 0; i < n; ++i) f();
  return (thread_cpu_ns() - start) / static_cast<double>(n);
}

/// Iterations of f that take about `ms` milliseconds.
template <class F>
long calibrate(double ms, F&& f) {
  long n = 16;
  for (;;) {
    const double ns = ns_per_call(n, f);
    if (ns * static_cast<double>(n) >= ms * 1e6 / 8 || n > (1L << 40)) return std::max(1L, static_cast<long>(ms * 1e6 / ns));
    n *= 2;
  }
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

bool same(const bench::small& a, const bench::small& b) {
  return a.n == b.n && a.text == b.text && a.from == b.from && a.from.address() == b.from.address();
}
bool same(const bench::large& a, const bench::large& b) {
  if (a.id != b.id || a.customer != b.customer || a.total != b.total || a.paid != b.paid || !(a.owner == b.owner) ||
      a.owner.address() != b.owner.address() || a.items.size() != b.items.size())
    return false;
  for (std::size_t i = 0; i < a.items.size(); ++i) {
    const auto &x = a.items[i], &y = b.items[i];
    if (x.sku != y.sku || x.name != y.name || x.quantity != y.quantity || x.price != y.price) return false;
  }
  return true;
}

struct options {
  int runs = 7;
  double run_ms = 100;
  std::string codec;
  std::string message;
};

template <class T>
void measure(const options& o, std::string_view codec_name, which codec, std::string_view message_name, const T& value) {
  codec_ops<T> ops{codec, {}, {}};
  ops.encode(value);
  {
    T back{};
    ops.decode(back);
    if (!same(value, back)) {
      std::fprintf(stderr, "bench_codec: %s does not round trip the %s message\n", std::string(codec_name).c_str(),
                   std::string(message_name).c_str());
      std::exit(1);
    }
  }
  auto encode = [&] {
    ops.encode(value);
    sink = ops.size();
  };
  auto decode = [&] {
    T v{};
    ops.decode(v);
    if constexpr (std::is_same_v<T, bench::small>)
      sink = static_cast<std::size_t>(v.n);
    else
      sink = v.items.size();
  };
  // Warm-up (also finds N), then the runs.
  const long n_encode = calibrate(o.run_ms, encode);
  ops.encode(value);
  const long n_decode = calibrate(o.run_ms, decode);
  std::vector<double> enc, dec, both;
  for (int r = 0; r < o.runs; ++r) {
    enc.push_back(ns_per_call(n_encode, encode));
    ops.encode(value);
    dec.push_back(ns_per_call(n_decode, decode));
    both.push_back(enc.back() + dec.back());
  }
  std::printf(
      "{\"workload\": \"codec\", \"codec\": \"%s\", \"message\": \"%s\", \"encode_ns\": %.1f, \"decode_ns\": %.1f, "
      "\"bytes\": %zu, \"runs\": %d, \"encode_decode_ns\": %.1f, \"min\": %.1f, \"max\": %.1f, "
      "\"iterations\": {\"encode\": %ld, \"decode\": %ld}}\n",
      std::string(codec_name).c_str(), std::string(message_name).c_str(), median(enc), median(dec), ops.size(), o.runs,
      median(both), *std::min_element(both.begin(), both.end()), *std::max_element(both.begin(), both.end()),
      n_encode, n_decode);
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "%s: %s needs a value\n", argv[0], a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--runs") o.runs = std::max(1, std::stoi(next()));
    else if (a == "--run-ms") o.run_ms = std::stod(next());
    else if (a == "--codec") o.codec = next();
    else if (a == "--message") o.message = next();
    else {
      std::fprintf(stderr, "usage: %s [--runs R] [--codec binary|json|cbor|msgpack] [--message small|large] [--run-ms MS]\n",
                   argv[0]);
      return 2;
    }
  }

  const pid remote(0x9f2c41d07a33e001ull, 0x5be0c2d1948f7a16ull, 42, address_book::process().intern("10.0.0.2:9000"));
  const bench::small small_msg{12345, "0123456789abcdef", remote};
  bench::large large_msg{0x1234567890ull, "Ada Lovelace & Co.", {}, 0, true, remote};
  for (int i = 0; i < 10; ++i) {
    large_msg.items.push_back(bench::line_item{1000u + static_cast<std::uint32_t>(i), "item number " + std::to_string(i),
                                               i + 1, 9.99 * (i + 1)});
    large_msg.total += large_msg.items.back().price * large_msg.items.back().quantity;
  }

  const std::pair<const char*, which> codecs[] = {
      {"binary", which::binary}, {"json", which::json}, {"cbor", which::cbor}, {"msgpack", which::msgpack}};
  bool any = false;
  for (const auto& [name, codec] : codecs) {
    if (!o.codec.empty() && o.codec != name) continue;
    if (o.message.empty() || o.message == "small") measure(o, name, codec, "small", small_msg), any = true;
    if (o.message.empty() || o.message == "large") measure(o, name, codec, "large", large_msg), any = true;
  }
  if (!any) {
    std::fprintf(stderr, "%s: nothing matches --codec '%s' --message '%s'\n", argv[0], o.codec.c_str(), o.message.c_str());
    return 2;
  }
}
