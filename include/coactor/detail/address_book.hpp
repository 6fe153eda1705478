// coactor detail: address_book, the node addresses that pids refer to.
//
// A pid of a remote process names its node by a small index into this process-wide book instead of
// carrying the address text, so that pids stay small trivially copyable values. Addresses are interned
// once and never removed; the book holds at most `capacity` of them, after which intern() fails (a peer
// cannot make a node grow it without bound).
#pragma once

#include <cstdint>
#include <string_view>

namespace coactor::detail::address_book {

inline constexpr std::uint32_t capacity = 1u << 20;

/// The index of `address` (at least 1), entering it if new; 0 if the book is full or the address empty.
std::uint32_t intern(std::string_view address);

/// The address with this index; empty for 0 or an index never handed out. Lock-free.
std::string_view lookup(std::uint32_t index) noexcept;

}  // namespace coactor::detail::address_book
