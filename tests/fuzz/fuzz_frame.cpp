// Fuzz target: frames and the handshake (include/coactor/wire/frame.hpp, handshake.hpp).
// The input is read the way a connection reads its bytes: the preamble check on the first 8 bytes, then
// frames back to back, each delimited by frame_size(), parsed by parse_frame() and parse_hello(), and
// status payloads by read_status(). Nothing may crash; every frame that parses is written again with the
// writing functions and must parse to the same fields; the same for hellos and status payloads.
#include <coactor/wire/frame.hpp>
#include <coactor/wire/handshake.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace {

[[noreturn]] void finding() { __builtin_trap(); }

constexpr std::uint64_t local_incarnation = 0x1111;
constexpr std::string_view peer_address = "peer:1";

bool same_pid(const coactor::pid& a, const coactor::pid& b) { return a == b && a.address() == b.address(); }

void check_status(std::string_view payload) {
  auto s = coactor::wire::read_status(payload);
  if (!s) return;
  std::string again;
  coactor::wire::write_status(again, s->code, s->detail);
  auto t = coactor::wire::read_status(again);
  if (!t || t->code != s->code || t->detail != s->detail) finding();
  static_cast<void>(s->to_error());
}

void check_frame(std::string_view frame) {
  using namespace coactor::wire;
  auto parsed = parse_frame(frame, local_incarnation, peer_address);
  if (!parsed) return;
  const frame_view& f = *parsed;
  const bool carries_message = f.kind == frame_kind::message || f.kind == frame_kind::request || f.kind == frame_kind::reply;
  const bool has_envelope = carries_message || f.kind == frame_kind::failure;

  std::string out;
  const std::size_t start = begin_frame(out, f.kind, f.format, f.flags);
  if (has_envelope) {
    const coactor::wire_context ctx{local_incarnation, "me:1"};
    write_envelope_fields(out, f.to, f.to_name, f.from, f.tag, f.type, ctx, carries_message);
  }
  out += f.payload;
  end_frame(out, start);

  auto size = frame_size(out);
  if (!size || *size != out.size()) finding();
  auto again = parse_frame(out, local_incarnation, peer_address);
  if (!again) finding();
  const frame_view& g = *again;
  if (g.kind != f.kind || g.format != f.format || g.flags != f.flags || !same_pid(g.to, f.to) ||
      g.to_name != f.to_name || !same_pid(g.from, f.from) || g.tag != f.tag || g.type != f.type ||
      g.payload != f.payload)
    finding();

  if (!carries_message) check_status(f.payload);
}

void check_hello(std::string_view frame) {
  using namespace coactor::wire;
  auto h = parse_hello(frame);
  if (!h) return;
  std::string out;
  write_greeting(out, h->node);
  if (!check_preamble(std::string_view(out).substr(0, preamble_bytes))) finding();
  auto again = parse_hello(std::string_view(out).substr(preamble_bytes));
  if (!again || again->node.incarnation != h->node.incarnation || again->node.name != h->node.name ||
      again->node.address != h->node.address || again->node.format != h->node.format)
    finding();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace coactor::wire;
  std::string_view in(reinterpret_cast<const char*>(data), size);
  if (in.size() >= preamble_bytes && check_preamble(in.substr(0, preamble_bytes))) in.remove_prefix(preamble_bytes);
  check_status(in);
  // Small limits now and then, so that the limit check is reached with small inputs too.
  const frame_limits limits{(size & 1) ? std::size_t{64} : frame_limits{}.max_frame_bytes};
  for (int frames = 0; frames < 64; ++frames) {
    auto n = frame_size(in, limits);
    if (!n || *n == 0 || *n > in.size()) break;
    if (*n < length_bytes + 4 && parse_frame(in.substr(0, *n), local_incarnation, peer_address)) finding();
    check_frame(in.substr(0, *n));
    check_hello(in.substr(0, *n));
    in.remove_prefix(*n);
  }
  return 0;
}
