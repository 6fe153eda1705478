#include <coactor/address_book.hpp>
#include <coactor/detail/siphash.hpp>
#include <coactor/detail/utf8.hpp>

#include <array>
#include <functional>
#include <mutex>
#include <random>
#include <stdexcept>
#include <string>
#include <unordered_map>

namespace coactor {
namespace {

constexpr std::uint32_t max_entries = (1u << address_book::entry_bits) - 1;  // index 0 is "no address"
constexpr std::uint32_t chunk_size = 1024;
constexpr std::uint32_t chunk_count = (max_entries + 1) / chunk_size;
constexpr std::uint32_t max_books = 1u << (32 - address_book::entry_bits);

// The books by number, so that an index can be resolved without knowing its book.
std::array<std::atomic<address_book*>, max_books> directory{};
std::atomic<std::uint32_t> next_number{address_book::process_number + 1};

struct stored {
  std::string address;  // never changed once published, so views of its bytes stay valid
  bool utf8 = false;
};

// The index's hash: keyed SipHash with a secret drawn per book, because peers choose the addresses
// (std::hash has a fixed seed: a peer could send thousands of addresses that all collide).
struct keyed_hash {
  detail::siphash_key key;
  keyed_hash() {
    std::random_device device;
    key = {(std::uint64_t{device()} << 32) | device(), (std::uint64_t{device()} << 32) | device()};
  }
  std::size_t operator()(const std::string& s) const noexcept { return detail::siphash24(key, std::string_view(s)); }
};

std::uint32_t entry_of(std::uint32_t index) noexcept { return index & max_entries; }

}  // namespace

struct address_book::storage {
  explicit storage(limits l) : bounds(l) {}
  ~storage() {
    for (auto& c : chunks) delete[] c.load(std::memory_order_relaxed);
  }
  const limits bounds;
  std::mutex mutex;  // guards `index` and appends
  std::unordered_map<std::string, std::uint32_t, keyed_hash> index;
  std::array<std::atomic<stored*>, chunk_count> chunks{};  // chunk i holds entries [i*1024, i*1024+1024)
  std::atomic<std::uint32_t> size{1};                      // entry 0 is "no address"
  std::size_t text_bytes = 0;                              // of all entered addresses (under `mutex`)

  /// The published entry `i` (0 < i < size, loaded with acquire).
  const stored& at(std::uint32_t i) const noexcept {
    return chunks[i / chunk_size].load(std::memory_order_acquire)[i % chunk_size];
  }
};

namespace {

/// Makes `e` (index `i`) the thread's recent entry.
void remember(std::uint32_t i, const stored& e) noexcept {
  detail::recent_entry = detail::recent_address{e.address.data(), e.address.size(), i,
                                                detail::retired_books.load(std::memory_order_relaxed), e.utf8};
}

std::uint32_t take_number() {
  std::uint32_t n = next_number.load(std::memory_order_relaxed);
  do {
    if (n >= max_books)
      throw std::length_error("coactor: this process has made all the address books it can (" +
                              std::to_string(max_books - 2) + " besides its own)");
  } while (!next_number.compare_exchange_weak(n, n + 1, std::memory_order_relaxed));
  return n;
}

address_book::limits checked(address_book::limits l) {
  if (l.max_addresses > max_entries)
    throw std::invalid_argument("coactor: an address book holds at most " + std::to_string(max_entries) + " addresses");
  return l;
}

}  // namespace

address_book::address_book() : address_book(limits{}) {}

address_book::address_book(limits bounds) : address_book(take_number(), checked(bounds)) {}

address_book::address_book(std::uint32_t number, limits bounds)
    : number_(number), storage_(std::make_unique<storage>(bounds)) {
  directory[number_].store(this, std::memory_order_release);
}

address_book::~address_book() {
  directory[number_].store(nullptr, std::memory_order_release);
  detail::retired_books.fetch_add(1, std::memory_order_relaxed);  // threads' recent entries may point into it
}

address_book& address_book::process() {
  static address_book* book = new address_book(process_number, limits{});  // never destroyed: pids may
  return *book;                                                             // be printed at exit
}

std::size_t address_book::size() const noexcept { return storage_->size.load(std::memory_order_acquire) - 1; }

std::uint32_t address_book::intern_slow(std::string_view address) {
  if (address.empty()) return 0;
  // Behind the recent entry, a small per-thread cache answers the few other addresses a thread deals
  // with (a node talking to several peers) without the lock. A book never removes an entry, so a cached
  // one of this book stays true.
  static thread_local detail::recent_address cache[16];
  detail::recent_address& slot = cache[std::hash<std::string_view>{}(address) % 16];
  if (slot.index && (slot.index >> entry_bits) == number_ && address == std::string_view(slot.data, slot.size)) {
    detail::recent_entry = slot;
    return slot.index;
  }
  storage& b = *storage_;
  std::uint32_t i = 0;
  {
    std::lock_guard lock(b.mutex);
    if (auto it = b.index.find(std::string(address)); it != b.index.end()) {
      i = it->second;
    } else {
      i = b.size.load(std::memory_order_relaxed);
      if (i > b.bounds.max_addresses || address.size() > b.bounds.max_text_bytes - b.text_bytes) return 0;
      b.text_bytes += address.size();
      stored* chunk = b.chunks[i / chunk_size].load(std::memory_order_relaxed);
      if (!chunk) {
        chunk = new stored[chunk_size];
        b.chunks[i / chunk_size].store(chunk, std::memory_order_release);
      }
      chunk[i % chunk_size].address.assign(address);
      chunk[i % chunk_size].utf8 = detail::invalid_utf8_at(address) == std::string_view::npos;
      b.index.emplace(std::string(address), i);
      b.size.store(i + 1, std::memory_order_release);  // publishes the entry to lock-free readers
    }
  }
  const std::uint32_t index = (number_ << entry_bits) | i;
  remember(index, b.at(i));
  slot = detail::recent_entry;
  return index;
}

address_book::entry address_book::find_slow(std::uint32_t index) noexcept {
  const address_book* book = directory[index >> entry_bits].load(std::memory_order_acquire);
  const std::uint32_t i = entry_of(index);
  if (!book || i == 0 || i >= book->storage_->size.load(std::memory_order_acquire)) return {};
  const stored& e = book->storage_->at(i);
  remember(index, e);
  return {e.address, e.utf8};
}

}  // namespace coactor
