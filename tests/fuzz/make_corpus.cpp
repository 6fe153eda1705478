// Writes the seed corpus of the fuzz targets: `fuzz_make_corpus DIR` fills DIR/fuzz_binary, DIR/fuzz_json
// and DIR/fuzz_frame with a handful of small valid inputs and a few edge cases each. The committed corpus
// (tests/fuzz/corpus) was made with it: `build/.../tests/fuzz/fuzz_make_corpus tests/fuzz/corpus`.
// Run it again after a change to a wire format.
#include "fuzz_message.hpp"

#include <coactor/codec/binary.hpp>
#include <coactor/codec/json.hpp>
#include <coactor/address_book.hpp>
#include <coactor/wire/frame.hpp>
#include <coactor/wire/handshake.hpp>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <limits>
#include <string>
#include <string_view>

namespace {

namespace fs = std::filesystem;
using namespace coactor;

fs::path root;

void write(std::string_view target, std::string_view name, std::string_view bytes) {
  const fs::path dir = root / target;
  fs::create_directories(dir);
  std::ofstream(dir / name, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

fuzz::rich full() {
  fuzz::rich r{};
  r.b = true;
  r.i8 = std::numeric_limits<std::int8_t>::min();
  r.i16 = -300;
  r.i32 = 70000;
  r.i64 = std::numeric_limits<std::int64_t>::min();
  r.u8 = 255;
  r.u16 = 65535;
  r.u32 = 4000000000u;
  r.u64 = std::numeric_limits<std::uint64_t>::max();
  r.f = -1.5f;
  r.d = 1e300;
  r.m = fuzz::mood::angry;
  r.s = "héllo \"world\" \\ 😀\n";
  r.raw = {std::byte{0}, std::byte{0xff}, std::byte{0x80}};
  r.ints = {1, -1, 0};
  r.words = {"", "a", "日本"};
  r.pair = {1, 65535};
  r.by_name = {{"k", fuzz::leaf{"v", 2}}};
  r.by_i64 = {{-1, true}, {std::numeric_limits<std::int64_t>::max(), false}};
  r.by_u8 = {{7, "seven"}};
  r.maybe = -5;
  r.maybe_leaves = std::vector<fuzz::leaf>{{"x", 1}};
  r.c = fuzz::leaf{"in variant", 3};
  r.p = pid(0x1234, 0x5678, 9, address_book::process().intern("10.0.0.2:9000"));
  r.tree = fuzz::node{"root", {fuzz::node{"a", {}, fuzz::leaf{"e", 1}}, fuzz::node{"b", {fuzz::node{"c", {}, {}}}, {}}}, {}};
  return r;
}

std::string binary_of(const fuzz::rich& r) {
  std::string out;
  if (!binary::encode(r, out)) std::abort();
  return out;
}

std::string json_of(const fuzz::rich& r) {
  std::string out;
  if (!json::encode(r, out)) std::abort();
  return out;
}

void codec_seeds() {
  const fuzz::rich empty{};
  const fuzz::rich f = full();
  fuzz::rich special = f;
  special.f = std::numeric_limits<float>::quiet_NaN();
  special.d = -std::numeric_limits<double>::infinity();
  special.c = std::vector<std::uint8_t>{0, 1, 255};
  special.p = pid{};
  special.maybe.reset();
  fuzz::rich other = empty;
  other.c = std::string("alternative 1");
  other.d = -0.0;
  other.tree.kids.resize(3);

  write("fuzz_binary", "empty-struct", binary_of(empty));
  write("fuzz_binary", "full", binary_of(f));
  write("fuzz_binary", "special-values", binary_of(special));
  write("fuzz_binary", "string-alternative", binary_of(other));
  write("fuzz_binary", "truncated", binary_of(f).substr(0, binary_of(f).size() / 2));
  // The string field s (after 23 bytes of fixed and scalar fields) declaring 2^32 - 1 bytes.
  const std::string zero = binary_of(empty);
  write("fuzz_binary", "huge-count", zero.substr(0, 23) + "\xff\xff\xff\xff\x0f" + zero.substr(24));
  write("fuzz_binary", "nothing", "");

  write("fuzz_json", "empty-struct", json_of(empty));
  write("fuzz_json", "full", json_of(f));
  write("fuzz_json", "full-indented", *json::reformat(json_of(f), 2));
  write("fuzz_json", "special-values", json_of(special));
  write("fuzz_json", "string-alternative", json_of(other));
  write("fuzz_json", "escapes", R"({"s":"\u00e9\ud83d\ude00\t\"\\\/","words":["\u0000"],"d":1e-320,"f":"Infinity","i64":-0})");
  write("fuzz_json", "missing-and-unknown", R"({"b":false,"unknown":[1,{"x":null}],"maybe":null})");
  write("fuzz_json", "deep", std::string(100, '[') + std::string(100, ']'));
  write("fuzz_json", "truncated", json_of(f).substr(0, json_of(f).size() / 2));
}

std::string message_frame(wire::frame_kind kind, codec format, const pid& to, std::string_view to_name, const pid& from,
                          std::uint64_t tag, std::string_view type, std::string_view payload) {
  std::string out;
  const bool failure = kind == wire::frame_kind::failure;
  const std::size_t start = wire::begin_frame(out, kind, failure ? codec{} : format, to_name.empty() ? 0 : wire::flag_to_name);
  wire::write_envelope_fields(out, to, to_name, from, tag, type, wire_context{0x2222, "sender:1"}, !failure);
  out += payload;
  wire::end_frame(out, start);
  return out;
}

std::string status_frame(wire::frame_kind kind, int code, std::string_view detail) {
  std::string out;
  const std::size_t start = wire::begin_frame(out, kind, codec{}, 0);
  wire::write_status(out, code, detail);
  wire::end_frame(out, start);
  return out;
}

void frame_seeds() {
  node_identity self;
  self.incarnation = 0x2222;
  self.name = "node-a";
  self.address = "127.0.0.1:9000";
  std::string greeting;
  wire::write_greeting(greeting, self);
  self.format = codec::json;
  self.address.clear();
  std::string greeting_json;
  wire::write_greeting(greeting_json, self);

  const pid target(0x1111, 0x42, 3);
  const pid own(0x2222, 0x43, 4);
  const pid third(0x3333, 0x44, 5, address_book::process().intern("third:1"));
  const std::string small = binary_of(fuzz::rich{});
  const std::string msg = message_frame(wire::frame_kind::message, codec::binary, target, {}, own, 0, "fuzz::rich", small);
  const std::string req = message_frame(wire::frame_kind::request, codec::json, {}, "logger", third, 77, "fuzz::rich", "{}");
  const std::string rep = message_frame(wire::frame_kind::reply, codec::binary, target, {}, {}, 77, "i32", "\x02");
  std::string fail_status;
  wire::write_status(fail_status, static_cast<int>(errc::no_such_name), "'logger'");
  const std::string fail = message_frame(wire::frame_kind::failure, codec{}, target, {}, own, 78, {}, fail_status);
  const std::string ack = status_frame(wire::frame_kind::ack, 0, "");
  std::string bye;
  wire::write_bye(bye, error(errc::stopped, "shutting down"));

  write("fuzz_frame", "greeting", greeting);
  write("fuzz_frame", "greeting-json-no-address", greeting_json);
  write("fuzz_frame", "message", msg);
  write("fuzz_frame", "request-to-name", req);
  write("fuzz_frame", "reply", rep);
  write("fuzz_frame", "failure", fail);
  write("fuzz_frame", "ack", ack);
  write("fuzz_frame", "bye", bye);
  write("fuzz_frame", "connection", greeting + msg + req + rep + fail + ack + bye);
  write("fuzz_frame", "truncated", greeting + msg.substr(0, msg.size() - 3));
  write("fuzz_frame", "wrong-version", std::string("CoAc\x02\x00\x00\x00", 8) + msg);
  write("fuzz_frame", "status", fail_status);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: " << argv[0] << " DIR\n";
    return 2;
  }
  root = argv[1];
  codec_seeds();
  frame_seeds();
  std::cout << "seeds written to " << root << '\n';
  return 0;
}
