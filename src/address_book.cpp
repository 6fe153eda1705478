#include <coactor/detail/address_book.hpp>

#include <array>
#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

namespace coactor::detail::address_book {
namespace {

constexpr std::uint32_t chunk_size = 1024;
constexpr std::uint32_t chunk_count = capacity / chunk_size;

struct book {
  std::mutex mutex;  // guards `index` and appends
  std::unordered_map<std::string, std::uint32_t> index;
  std::array<std::atomic<std::string*>, chunk_count> chunks{};  // chunk i holds indices [i*1024, i*1024+1024)
  std::atomic<std::uint32_t> size{1};                           // index 0 is "no address"
};

book& the_book() {
  static book* b = new book;  // never destroyed: pids may be printed during static destruction
  return *b;
}

std::uint32_t intern_locked(std::string_view address);

}  // namespace

std::uint32_t intern(std::string_view address) {
  if (address.empty()) return 0;
  // Every frame names its sender's address, so the same few addresses are interned again and again: a
  // small per-thread cache answers those without the lock (entries are never removed, so it stays true).
  struct cached {
    std::string address;
    std::uint32_t index = 0;
  };
  static thread_local cached cache[16];
  static thread_local const cached* last = nullptr;  // most frames come from the peer of the one before
  if (last && last->address == address) return last->index;
  cached& slot = cache[std::hash<std::string_view>{}(address) % 16];
  last = &slot;
  if (slot.index && slot.address == address) return slot.index;
  const std::uint32_t index = intern_locked(address);
  if (index) {
    slot.address.assign(address);
    slot.index = index;
  }
  return index;
}

namespace {

std::uint32_t intern_locked(std::string_view address) {
  book& b = the_book();
  std::lock_guard lock(b.mutex);
  if (auto it = b.index.find(std::string(address)); it != b.index.end()) return it->second;
  const std::uint32_t i = b.size.load(std::memory_order_relaxed);
  if (i >= capacity) return 0;
  std::string* chunk = b.chunks[i / chunk_size].load(std::memory_order_relaxed);
  if (!chunk) {
    chunk = new std::string[chunk_size];
    b.chunks[i / chunk_size].store(chunk, std::memory_order_release);
  }
  chunk[i % chunk_size] = std::string(address);
  b.index.emplace(std::string(address), i);
  b.size.store(i + 1, std::memory_order_release);  // publishes the entry to lock-free readers
  return i;
}

}  // namespace

std::string_view lookup(std::uint32_t index) noexcept {
  book& b = the_book();
  if (index == 0 || index >= b.size.load(std::memory_order_acquire)) return {};
  const std::string* chunk = b.chunks[index / chunk_size].load(std::memory_order_acquire);
  return chunk[index % chunk_size];
}

}  // namespace coactor::detail::address_book
