// coactor: address_book, the node addresses that pids of other nodes refer to.
//
// A pid of a remote process names its node by a 32-bit index into an address book instead of carrying
// the address text, so that pids stay small trivially copyable values. A book interns each address once
// and keeps it until the book is destroyed; it holds at most `limits::max_addresses` addresses and
// `limits::max_text_bytes` of their text, after which intern() fails (0): pids from peers fill a book,
// and a hostile peer must not be able to make a node spend more than that on it. Decoding a pid of a new
// address then fails with errc::too_large; the addresses already in the book keep working.
//
// Which book:
// - The process book (`address_book::process()`) is the default everywhere: it is created on first use
//   and never destroyed, so pids interned in it stay valid for the life of the OS process (as node names
//   do in Erlang's atom table). Nodes, the codecs and pid::parse use it unless told otherwise.
// - A book of your own (`node_options::addresses`, `wire_context::addresses`, pid::parse's second
//   argument) has limits of its own and the lifetime you give it: a node that faces untrusted peers can
//   have its own, so that filling it does not fill anyone else's, and a test can fill a small one. The
//   node keeps the book it was given alive as long as the node lives.
//
// An index names its book too (the high 12 bits are the book's number, drawn once per book and never
// reused), so that any pid can be resolved without knowing its book: `address_book::find(index)`. A pid
// whose book was destroyed has no address any more (find() answers empty). Do not destroy a book while
// another thread still resolves its pids; a process can create at most 4094 books besides its own.
//
// Threads: every member may be called from any thread at once, except the destructor.
//
// Every pid in a message from another node is interned when it is decoded and every remote pid is
// looked up when it is encoded; nearly always it is the same address as the time before on that thread
// (one peer sends many messages). So each thread remembers the entry it used last, and that case is
// answered inline, without a lock, a hash or a copy.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string_view>

namespace coactor {

class address_book {
 public:
  /// What a book may hold.
  struct limits {
    std::uint32_t max_addresses = 65535;                    ///< distinct addresses, at most 2^20 - 1
    std::size_t max_text_bytes = std::size_t{8} << 20;      ///< of address text in all
  };

  /// An entered address as a book holds it.
  struct entry {
    std::string_view address;  ///< empty for index 0, an index never handed out, or a destroyed book's
    bool utf8 = true;          ///< the address is valid UTF-8 (checked once, when it was entered)
  };

  /// A new, empty book. Throws std::invalid_argument when `max_addresses` is above 2^20 - 1, and
  /// std::length_error when the process has made all the books it can (see above).
  address_book();
  explicit address_book(limits bounds);
  ~address_book();
  address_book(const address_book&) = delete;
  address_book& operator=(const address_book&) = delete;

  /// The process book: the one used when no other is given.
  static address_book& process();

  /// The index of `address` in this book (never 0), entering it if new; 0 if the book is full or the
  /// address empty.
  std::uint32_t intern(std::string_view address);

  /// The index of `address` if it is the entry this thread used last, it is in this book and it is
  /// valid UTF-8, else 0 (then the caller validates and interns it the long way). Lets a decoder skip
  /// both for the address it saw last.
  std::uint32_t recent_utf8(std::string_view address) const noexcept;

  /// The number of addresses in the book.
  std::size_t size() const noexcept;

  /// The entry with this index, whichever book it is in (see `entry`). Lock-free.
  static entry find(std::uint32_t index) noexcept;
  /// The address with this index; empty when find() says so. Lock-free.
  static std::string_view lookup(std::uint32_t index) noexcept { return find(index).address; }

  /// This book's number: the high bits of every index it hands out.
  std::uint32_t number() const noexcept { return number_; }

  static constexpr unsigned entry_bits = 20;
  static constexpr std::uint32_t process_number = 1;  ///< the process book's number

 private:
  struct storage;
  address_book(std::uint32_t number, limits bounds);
  std::uint32_t intern_slow(std::string_view address);
  static entry find_slow(std::uint32_t index) noexcept;

  const std::uint32_t number_;
  std::unique_ptr<storage> storage_;
};

namespace detail {

/// The entry this thread interned or looked up last; `data` points into its book, which does not move
/// it; `retired` is the count of destroyed books when it was taken (a later destruction may have freed
/// it). Constant-initialized and trivially destructible: reading it costs no thread-local init guard.
struct recent_address {
  const char* data = nullptr;
  std::size_t size = 0;
  std::uint32_t index = 0;  // 0: none yet
  std::uint32_t retired = 0;
  bool utf8 = false;
};
inline thread_local recent_address recent_entry;
/// How many books have been destroyed so far.
inline std::atomic<std::uint32_t> retired_books{0};

/// Whether the thread's recent entry is still good and is `address` in book `number`. Addresses are
/// short ("10.0.0.2:9000"), so this compares whole words (the last one overlapping) instead of memcmp.
inline bool is_recent(std::uint32_t number, std::string_view address) noexcept {
  const recent_address& r = recent_entry;
  const std::size_t n = address.size();
  // The recent entry is in book `number`, which lives (numbers are never reused), so its text is there.
  if (r.index == 0 || n != r.size || (r.index >> address_book::entry_bits) != number) return false;
  const char* a = address.data();
  const char* b = r.data;
  auto word = [](const char* p) {
    std::uint64_t w;
    std::memcpy(&w, p, 8);
    return w;
  };
  if (n < 8) return std::memcmp(a, b, n) == 0;
  for (std::size_t i = 0; i + 8 < n; i += 8)
    if (word(a + i) != word(b + i)) return false;
  return word(a + n - 8) == word(b + n - 8);
}

/// recent_utf8() of the book numbered `number`, for callers that hold a number rather than a book.
inline std::uint32_t recent_utf8(std::uint32_t number, std::string_view address) noexcept {
  return is_recent(number, address) && recent_entry.utf8 ? recent_entry.index : 0;
}

}  // namespace detail

inline std::uint32_t address_book::intern(std::string_view address) {
  if (detail::is_recent(number_, address)) return detail::recent_entry.index;
  return intern_slow(address);
}

inline std::uint32_t address_book::recent_utf8(std::string_view address) const noexcept {
  return detail::recent_utf8(number_, address);
}

inline address_book::entry address_book::find(std::uint32_t index) noexcept {
  const detail::recent_address& r = detail::recent_entry;
  // A book other than the process book may have been destroyed since (its number is never reused, but
  // the text the entry points to is gone then); the process book never is.
  if (index != 0 && index == r.index &&
      ((index >> entry_bits) == process_number || r.retired == detail::retired_books.load(std::memory_order_relaxed)))
    return {std::string_view(r.data, r.size), r.utf8};
  return find_slow(index);
}

}  // namespace coactor
