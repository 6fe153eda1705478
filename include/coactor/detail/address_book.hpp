// coactor detail: address_book, the node addresses that pids refer to.
//
// A pid of a remote process names its node by a small index into this process-wide book instead of
// carrying the address text, so that pids stay small trivially copyable values. Addresses are interned
// once and never removed; the book holds at most `capacity` of them and `max_text_bytes` of their text,
// after which intern() fails: pids from peers fill it, and a hostile peer must not be able to make a
// node spend more than a few tens of MiB on it. An entered address never moves, so views of it stay
// valid for the life of the process.
//
// Every pid in a message from another node is interned when it is decoded, and every remote pid is
// looked up when it is encoded; nearly always it is the same address as the time before on that thread
// (one peer sends many messages). So each thread remembers the entry it used last, and that case is
// answered inline, without the lock, the hash or a copy.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace coactor::detail::address_book {

inline constexpr std::uint32_t capacity = 1u << 16;         ///< distinct addresses (index 0 is none)
inline constexpr std::size_t max_text_bytes = std::size_t{8} << 20;  ///< of address text in all

/// An entered address as the book holds it.
struct entry {
  std::string_view address;  ///< empty for index 0 or an index never handed out
  bool utf8 = true;          ///< the address is valid UTF-8 (checked once, when it was entered)
};

// ---- internals of the book: the thread's most recent entry, and the out-of-line paths ----

/// The entry this thread interned or looked up last; `data` points into the book (which never moves it).
/// Constant-initialized and trivially destructible, so reading it costs no thread-local init guard.
struct recent_entry {
  const char* data = nullptr;
  std::size_t size = 0;
  std::uint32_t index = 0;  // 0: none yet
  bool utf8 = false;
};
inline thread_local recent_entry recent;

/// Whether `address` is the text of `recent`. Addresses are short ("10.0.0.2:9000"), so this compares whole
/// words (the last one overlapping) instead of calling memcmp.
inline bool is_recent(std::string_view address) noexcept {
  const std::size_t n = address.size();
  if (recent.index == 0 || n != recent.size) return false;
  const char* a = address.data();
  const char* b = recent.data;
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

// The paths through the book (or the thread's small cache of it); both make what they find `recent`.
std::uint32_t intern_slow(std::string_view address);
entry find_slow(std::uint32_t index) noexcept;

// ---- the book ----

/// The index of `address` (at least 1), entering it if new; 0 if the book is full or the address empty.
inline std::uint32_t intern(std::string_view address) {
  if (is_recent(address)) return recent.index;
  return intern_slow(address);
}

/// The entry with this index (see `entry`). Lock-free.
inline entry find(std::uint32_t index) noexcept {
  const recent_entry& r = recent;
  if (index != 0 && index == r.index) return {std::string_view(r.data, r.size), r.utf8};
  return find_slow(index);
}

/// The address with this index; empty for 0 or an index never handed out. Lock-free.
inline std::string_view lookup(std::uint32_t index) noexcept { return find(index).address; }

/// The index of `address` if it is this thread's most recent entry and valid UTF-8, else 0 (then the
/// caller validates and interns it the long way). Lets a decoder skip both for the address it saw last.
inline std::uint32_t recent_utf8(std::string_view address) noexcept {
  return is_recent(address) && recent.utf8 ? recent.index : 0;
}

}  // namespace coactor::detail::address_book
