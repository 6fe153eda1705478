#include <coactor/detail/address_book.hpp>
#include <coactor/detail/siphash.hpp>
#include <coactor/detail/utf8.hpp>

#include <array>
#include <atomic>
#include <functional>
#include <mutex>
#include <random>
#include <string>
#include <unordered_map>

namespace coactor::detail::address_book {
namespace {

constexpr std::uint32_t chunk_size = 1024;
constexpr std::uint32_t chunk_count = capacity / chunk_size;

struct stored {
  std::string address;  // never changed once published, so views of its bytes stay valid
  bool utf8 = false;
};

// The index's hash: keyed SipHash with a secret drawn at start, because peers choose the addresses
// (std::hash has a fixed seed: a peer could send thousands of addresses that all collide).
struct keyed_hash {
  siphash_key key;
  keyed_hash() {
    std::random_device device;
    key = {(std::uint64_t{device()} << 32) | device(), (std::uint64_t{device()} << 32) | device()};
  }
  std::size_t operator()(const std::string& s) const noexcept { return siphash24(key, std::string_view(s)); }
};

struct book {
  std::mutex mutex;  // guards `index` and appends
  std::unordered_map<std::string, std::uint32_t, keyed_hash> index;
  std::array<std::atomic<stored*>, chunk_count> chunks{};  // chunk i holds indices [i*1024, i*1024+1024)
  std::atomic<std::uint32_t> size{1};                      // index 0 is "no address"
  std::size_t text_bytes = 0;                              // of all entered addresses (under `mutex`)
};

book& the_book() {
  static book* b = new book;  // never destroyed: pids may be printed during static destruction
  return *b;
}

/// The published entry `i` (0 < i < size, loaded with acquire).
const stored& at(const book& b, std::uint32_t i) noexcept {
  return b.chunks[i / chunk_size].load(std::memory_order_acquire)[i % chunk_size];
}

std::uint32_t intern_locked(std::string_view address) {
  book& b = the_book();
  std::lock_guard lock(b.mutex);
  if (auto it = b.index.find(std::string(address)); it != b.index.end()) return it->second;
  const std::uint32_t i = b.size.load(std::memory_order_relaxed);
  if (i >= capacity || address.size() > max_text_bytes - b.text_bytes) return 0;
  b.text_bytes += address.size();
  stored* chunk = b.chunks[i / chunk_size].load(std::memory_order_relaxed);
  if (!chunk) {
    chunk = new stored[chunk_size];
    b.chunks[i / chunk_size].store(chunk, std::memory_order_release);
  }
  chunk[i % chunk_size].address.assign(address);
  chunk[i % chunk_size].utf8 = invalid_utf8_at(address) == std::string_view::npos;
  b.index.emplace(std::string(address), i);
  b.size.store(i + 1, std::memory_order_release);  // publishes the entry to lock-free readers
  return i;
}

/// Makes `recent` the entry `i`.
void remember(std::uint32_t i, const stored& e) noexcept {
  recent = recent_entry{e.address.data(), e.address.size(), i, e.utf8};
}

}  // namespace

std::uint32_t intern_slow(std::string_view address) {
  if (address.empty()) return 0;
  // Behind `recent`, a small per-thread cache answers the few other addresses a thread deals with (a
  // node talking to several peers) without the lock. Entries are never removed, so it stays true.
  static thread_local recent_entry cache[16];
  recent_entry& slot = cache[std::hash<std::string_view>{}(address) % 16];
  if (slot.index && address == std::string_view(slot.data, slot.size)) {
    recent = slot;
    return slot.index;
  }
  const std::uint32_t index = intern_locked(address);
  if (index) {
    remember(index, at(the_book(), index));
    slot = recent;
  }
  return index;
}

entry find_slow(std::uint32_t index) noexcept {
  const book& b = the_book();
  if (index == 0 || index >= b.size.load(std::memory_order_acquire)) return {};
  const stored& e = at(b, index);
  remember(index, e);
  return {e.address, e.utf8};
}

}  // namespace coactor::detail::address_book
