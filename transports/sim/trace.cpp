#include <coactor/sim/trace.hpp>

#include <cstdio>
#include <cstring>

namespace coactor::sim {

std::string_view to_string(event_kind k) noexcept {
  switch (k) {
    case event_kind::sent: return "sent";
    case event_kind::delivered: return "delivered";
    case event_kind::dropped: return "dropped";
    case event_kind::duplicated: return "duplicated";
    case event_kind::refused: return "refused";
    case event_kind::mailbox: return "mailbox";
    case event_kind::crashed: return "crashed";
    case event_kind::restarted: return "restarted";
    case event_kind::partitioned: return "partitioned";
    case event_kind::healed: return "healed";
    case event_kind::reported: return "reported";
    case event_kind::peer_up: return "peer_up";
    case event_kind::peer_down: return "peer_down";
  }
  return "?";
}

namespace {

std::string short_pid(const pid& p) {
  if (p.is_null()) return "-";
  char text[48];
  std::snprintf(text, sizeof text, "%04llx.%llx.%04llx", static_cast<unsigned long long>(p.incarnation() & 0xffff),
                static_cast<unsigned long long>(p.slot()), static_cast<unsigned long long>(p.id() & 0xffff));
  return text;
}

// One word into the hash (not cryptographic; equal inputs give equal hashes).
void step(std::uint64_t& h, std::uint64_t word) noexcept {
  h ^= word * 0x9e3779b97f4a7c15ull;
  h = ((h << 27) | (h >> 37)) * 0x94d049bb133111ebull;
}

std::uint64_t word_at(const unsigned char* p) noexcept {
  std::uint64_t word;
  std::memcpy(&word, p, 8);
  return word;
}

// The bytes into the hash, eight at a time.
void mix(std::uint64_t& h, const void* data, std::size_t n) {
  const auto* p = static_cast<const unsigned char*>(data);
  for (; n >= 8; p += 8, n -= 8) step(h, word_at(p));
  std::uint64_t tail = n;  // the length goes in, so "a" and "a\0" differ
  for (std::size_t i = 0; i < n; ++i) tail |= std::uint64_t{p[i]} << (8 * (i + 1));
  step(h, tail);
}
void mix(std::uint64_t& h, std::string_view s) { mix(h, s.data(), s.size()); }
void mix(std::uint64_t& h, std::uint64_t v) { mix(h, &v, sizeof v); }

}  // namespace

std::string trace_event::to_string() const {
  char head[64];
  std::snprintf(head, sizeof head, "%12.3fms  %-11s ", std::chrono::duration<double, std::milli>(at.time_since_epoch()).count(),
                std::string(sim::to_string(kind)).c_str());
  std::string line = head;
  if (!from_node.empty() || !to_node.empty()) line += from_node + " -> " + to_node + "  ";
  if (!from.is_null() || !to.is_null() || !to_name.empty())
    line += short_pid(from) + " -> " + (to_name.empty() ? short_pid(to) : "'" + to_name + "'") + "  ";
  line += type;
  if (!detail.empty()) line += "  (" + detail + ")";
  return line;
}

void trace::add(trace_event e) {
  mix(hash_, static_cast<std::uint64_t>(e.at.time_since_epoch().count()));
  mix(hash_, static_cast<std::uint64_t>(e.kind));
  mix(hash_, e.from_node);
  mix(hash_, e.to_node);
  for (const pid* p : {&e.from, &e.to}) {
    mix(hash_, p->incarnation());
    mix(hash_, p->id());
  }
  mix(hash_, e.to_name);
  mix(hash_, e.type);
  mix(hash_, e.detail);
  ++count_;
  if (keep_) events_.push_back(std::move(e));
}

// The hash-only forms mix fixed-size fields a word at a time (trace::add keeps the general form, so that
// a trace that keeps events hashes as it always has).
void trace::add_frame(time_point at, event_kind kind, std::uint32_t from_node, std::uint32_t to_node,
                      std::uint64_t frame_digest) noexcept {
  step(hash_, static_cast<std::uint64_t>(at.time_since_epoch().count()));
  step(hash_, (std::uint64_t{from_node} << 32 | to_node) ^ (std::uint64_t{static_cast<std::uint8_t>(kind)} << 56));
  step(hash_, frame_digest);
  ++count_;
}

// Frames are the bulk of what a hash-only trace hashes, so their digest is cheaper per byte than mix():
// four lanes over 32-byte blocks, one multiplication per word (a bijection of the lane, so two frames that
// differ in one word always leave different lanes), and the full step only to combine the lanes.
std::uint64_t trace::digest(std::string_view frame) noexcept {
  constexpr std::uint64_t k = 0x9fb21c651e98df25ull;
  const auto* p = reinterpret_cast<const unsigned char*>(frame.data());
  std::size_t n = frame.size();
  std::uint64_t lane[4] = {0x84222325cbf29ce4ull, 0x2545f4914f6cdd1dull, 0xd6e8feb86659fd93ull, 0x5851f42d4c957f2dull};
  for (; n >= 32; p += 32, n -= 32)
    for (int i = 0; i < 4; ++i) lane[i] = (lane[i] ^ word_at(p + 8 * i)) * k;
  std::uint64_t h = frame.size();
  for (std::uint64_t l : lane) step(h, l);
  for (; n >= 8; p += 8, n -= 8) step(h, word_at(p));
  if (n == 0) return h;
  if (frame.size() < 8) {
    mix(h, p, n);
    return h;
  }
  step(h, word_at(p + n - 8));  // the last eight bytes, overlapping words already in (the size is in too)
  return h;
}

void trace::add_delivery(time_point at, const pid& from, const pid& to, std::string_view type) noexcept {
  step(hash_, static_cast<std::uint64_t>(at.time_since_epoch().count()));
  step(hash_, static_cast<std::uint64_t>(event_kind::mailbox));
  step(hash_, from.id());
  step(hash_, to.id());
  mix(hash_, type);
  ++count_;
}

std::string trace::print(std::size_t tail) const {
  std::string text;
  const std::size_t first = tail && tail < events_.size() ? events_.size() - tail : 0;
  for (std::size_t i = first; i < events_.size(); ++i) text += events_[i].to_string() + '\n';
  return text;
}

}  // namespace coactor::sim
