// coactor: the binary codec.
//
// Written directly from the struct and read directly into it, with no intermediate document.
// Little-endian; lengths and integers are LEB128 varints (signed integers zigzag-encoded first):
//
//   bool          1 byte, 0 or 1
//   integers      varint (signed: zigzag); decoding checks the value fits the field's type
//   enum          its underlying integer
//   f32 / f64     4 / 8 bytes, IEEE 754, little-endian
//   string        varint byte length, then UTF-8 bytes (validated)
//   bytes         varint length, then the bytes
//   vector<T>     varint count, then the elements
//   array<T,N>    the N elements
//   map<K,V>      varint count, then key, value, key, value... (keys unique)
//   optional<T>   1 byte 0 (empty) or 1 followed by the value
//   variant<...>  varint alternative index, then the value
//   pid           8 bytes node incarnation (0: the null pid, nothing follows), 8 bytes id, varint slot,
//                 then the node address as a string
//   process_name  the node address, then the name, as two strings
//   struct        varint field count, then the fields in declaration order
//
// The field count guards against a sender and receiver that disagree about a struct. The codec version
// travels in the frame header (see docs/protocol.md), not in each message.
#pragma once

#include <coactor/codec.hpp>
#include <coactor/detail/codec_state.hpp>
#include <coactor/address_book.hpp>
#include <coactor/detail/utf8.hpp>
#include <coactor/pid.hpp>
#include <coactor/process_name.hpp>
#include <coactor/reflect.hpp>
#include <coactor/type_name.hpp>

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

namespace coactor::binary {

namespace detail {

using coactor::detail::codec_state;

// Failures build their texts out of line, so that the paths that succeed stay small enough to inline.
[[gnu::cold, gnu::noinline]] inline bool fail(codec_state& s, errc code, const char* what) {
  return s.fail(code, what);
}
[[gnu::cold, gnu::noinline]] inline bool fail_truncated(codec_state& s, std::size_t wanted, std::size_t left) {
  return s.fail(errc::bad_message,
                "truncated: needs " + std::to_string(wanted) + " more byte(s), " + std::to_string(left) + " left");
}
[[gnu::cold, gnu::noinline]] inline bool fail_length(codec_state& s, std::uint64_t n, std::size_t left) {
  return s.fail(errc::bad_message,
                "declared length " + std::to_string(n) + " exceeds the " + std::to_string(left) + " bytes left");
}
[[gnu::cold, gnu::noinline]] inline bool fail_utf8(codec_state& s, std::size_t at) {
  return s.fail(errc::bad_message, "invalid UTF-8 at byte " + std::to_string(at) + " of a string");
}
[[gnu::cold, gnu::noinline]] inline bool fail_range(codec_state& s, std::string value, std::string_view type) {
  return s.fail(errc::bad_message, value + " is out of range for " + std::string(type));
}
[[gnu::cold, gnu::noinline]] inline bool fail_tag(codec_state& s, const char* what, unsigned value) {
  return s.fail(errc::bad_message, what + std::to_string(value) + ", not 0 or 1");
}
[[gnu::cold, gnu::noinline]] inline bool fail_count(codec_state& s, const char* first, std::uint64_t a,
                                                    const char* second, std::uint64_t b) {
  return s.fail(errc::bad_message, first + std::to_string(a) + second + std::to_string(b));
}

class writer {
 public:
  explicit writer(std::string& out) noexcept : out_(out) {}
  void byte(std::uint8_t b) { out_.push_back(static_cast<char>(b)); }
  void varint(std::uint64_t v) {
    char buf[10];
    std::size_t n = 0;
    while (v >= 0x80) {
      buf[n++] = static_cast<char>(v | 0x80);
      v >>= 7;
    }
    buf[n++] = static_cast<char>(v);
    out_.append(buf, n);
  }
  void fixed(std::uint64_t v, std::size_t width) {
    char buf[8];
    for (std::size_t i = 0; i < width; ++i) buf[i] = static_cast<char>(v >> (8 * i));
    out_.append(buf, width);
  }
  void raw(const void* data, std::size_t n) { out_.append(static_cast<const char*>(data), n); }

 private:
  std::string& out_;
};

/// The writer of binary::encode(): the same operations, collected in a buffer of its own and appended to
/// `out` in large pieces, because std::string::append is not inlined and one call per field would be most
/// of the cost of a small message. Nothing reaches `out` before flush() (or a full buffer).
class buffered_writer {
 public:
  explicit buffered_writer(std::string& out) noexcept : out_(out) {}
  buffered_writer(const buffered_writer&) = delete;
  buffered_writer& operator=(const buffered_writer&) = delete;

  void byte(std::uint8_t b) {
    if (used_ == capacity) flush();
    buf_[used_++] = static_cast<char>(b);
  }
  void varint(std::uint64_t v) {
    if (capacity - used_ < 10) flush();
    while (v >= 0x80) {
      buf_[used_++] = static_cast<char>(v | 0x80);
      v >>= 7;
    }
    buf_[used_++] = static_cast<char>(v);
  }
  void fixed(std::uint64_t v, std::size_t width) {
    if (capacity - used_ < 8) flush();
    if constexpr (std::endian::native == std::endian::little) {
      std::memcpy(buf_ + used_, &v, width);  // width <= 8
      used_ += width;
    } else {
      for (std::size_t i = 0; i < width; ++i) buf_[used_++] = static_cast<char>(v >> (8 * i));
    }
  }
  void raw(const void* data, std::size_t n) {
    if (n > capacity - used_) {
      flush();
      if (n > capacity / 2) {
        out_.append(static_cast<const char*>(data), n);
        return;
      }
    }
    copy(buf_ + used_, static_cast<const char*>(data), n);
    used_ += n;
  }
  void flush() {
    out_.append(buf_, used_);
    used_ = 0;
  }

 private:
  static constexpr std::size_t capacity = 512;

  /// memcpy, with the short copies (most strings of a message: names, addresses) done inline with two
  /// overlapping loads and stores, rather than by a call into the C library.
  static void copy(char* to, const char* from, std::size_t n) noexcept {
    if (n > 16)
      std::memcpy(to, from, n);
    else if (n >= 8)
      copy_ends<std::uint64_t>(to, from, n);
    else if (n >= 4)
      copy_ends<std::uint32_t>(to, from, n);
    else
      for (std::size_t i = 0; i < n; ++i) to[i] = from[i];
  }
  /// Copies `n` bytes, sizeof(Word) <= n <= 2 * sizeof(Word), as a first and a last word (overlapping).
  template <class Word>
  static void copy_ends(char* to, const char* from, std::size_t n) noexcept {
    Word head, tail;
    std::memcpy(&head, from, sizeof(Word));
    std::memcpy(&tail, from + n - sizeof(Word), sizeof(Word));
    std::memcpy(to, &head, sizeof(Word));
    std::memcpy(to + n - sizeof(Word), &tail, sizeof(Word));
  }

  std::string& out_;
  std::size_t used_ = 0;
  char buf_[capacity];
};

class reader {
 public:
  explicit reader(std::string_view in) noexcept
      : p_(reinterpret_cast<const unsigned char*>(in.data())), end_(p_ + in.size()) {}

  std::size_t remaining() const noexcept { return static_cast<std::size_t>(end_ - p_); }

  bool byte(std::uint8_t& b, codec_state& s) {
    if (p_ == end_) return truncated(s, 1);
    b = *p_++;
    return true;
  }
  bool varint(std::uint64_t& v, codec_state& s) {
    if (p_ != end_ && *p_ < 0x80) {  // most varints are one byte
      v = *p_++;
      return true;
    }
    v = 0;
    for (unsigned shift = 0;; shift += 7) {
      if (p_ == end_) return truncated(s, 1);
      const std::uint8_t b = *p_++;
      if (shift == 63 && b > 1) return fail(s, errc::bad_message, "varint overflows 64 bits");
      v |= std::uint64_t{b & 0x7fu} << shift;
      if (!(b & 0x80)) return true;
      if (shift == 63) return fail(s, errc::bad_message, "varint longer than 10 bytes");
    }
  }
  bool fixed(std::uint64_t& v, std::size_t width, codec_state& s) {
    if (remaining() < width) return truncated(s, width);
    v = 0;
    if constexpr (std::endian::native == std::endian::little)
      std::memcpy(&v, p_, width);  // width <= 8
    else
      for (std::size_t i = 0; i < width; ++i) v |= std::uint64_t{p_[i]} << (8 * i);
    p_ += width;
    return true;
  }
  bool raw(std::string_view& out, std::size_t n, codec_state& s) {
    if (remaining() < n) return truncated(s, n);
    out = std::string_view(reinterpret_cast<const char*>(p_), n);
    p_ += n;
    return true;
  }
  /// A declared length or count; it must fit in what is left if each item takes `min_item_bytes`.
  bool length(std::uint64_t& n, std::size_t min_item_bytes, codec_state& s) {
    if (!varint(n, s)) return false;
    if (min_item_bytes && n > remaining() / min_item_bytes)
      return fail_length(s, n, remaining());
    return true;
  }

 private:
  bool truncated(codec_state& s, std::size_t wanted) { return fail_truncated(s, wanted, remaining()); }
  const unsigned char* p_;
  const unsigned char* end_;
};

/// The fewest bytes a value of T takes on the wire (bounds declared counts against the input left).
template <class T>
constexpr std::size_t min_size() {
  using namespace coactor::detail;
  if constexpr (std::is_same_v<T, double>) return 8;
  else if constexpr (std::is_same_v<T, float>) return 4;
  else if constexpr (std::is_same_v<T, pid>) return 8;
  else if constexpr (std::is_same_v<T, process_name>) return 2;
  else if constexpr (is_std_array<T>::value) return std::tuple_size_v<T> * min_size<typename T::value_type>();
  else if constexpr (std::is_same_v<T, bool> || wire_integer<T> || wire_enum<T> || std::is_same_v<T, std::string> ||
                     std::is_same_v<T, bytes> || is_vector<T>::value || is_map<T>::value || is_optional<T>::value ||
                     is_variant<T>::value || reflectable<T>)
    return 1;
  else
    return 1;
}

inline std::uint64_t zigzag(std::int64_t v) noexcept {
  return (static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63);
}
inline std::int64_t unzigzag(std::uint64_t v) noexcept {
  return static_cast<std::int64_t>(v >> 1) ^ -static_cast<std::int64_t>(v & 1);
}

struct depth_guard {
  codec_state& s;
  ~depth_guard() { s.leave(); }
};

// ---- encoding ----

template <class T, class W>
bool write(W& w, const T& v, codec_state& s);

template <class W>
bool write_text(W& w, std::string_view text, codec_state& s) {
  if (std::size_t at = coactor::detail::invalid_utf8_at(text); at != std::string_view::npos)
    return fail_utf8(s, at);
  w.varint(text.size());
  w.raw(text.data(), text.size());
  return true;
}

template <class T, class W, std::size_t... I>
bool write_fields(W& w, const T& v, codec_state& s, std::index_sequence<I...>) {
  bool ok = true;
  ((ok = ok && (write(w, boost::pfr::get<I>(v), s) || (s.at_field(field_name<T, I>()), false))), ...);
  return ok;
}

template <class T, class W>
bool write(W& w, const T& v, codec_state& s) {
  using namespace coactor::detail;
  if constexpr (std::is_same_v<T, bool>) {
    w.byte(v ? 1 : 0);
  } else if constexpr (wire_integer<T>) {
    if constexpr (std::is_signed_v<T>)
      w.varint(zigzag(static_cast<std::int64_t>(v)));
    else
      w.varint(static_cast<std::uint64_t>(v));
  } else if constexpr (wire_enum<T>) {
    return write(w, static_cast<std::underlying_type_t<T>>(v), s);
  } else if constexpr (std::is_same_v<T, float>) {
    w.fixed(std::bit_cast<std::uint32_t>(v), 4);
  } else if constexpr (std::is_same_v<T, double>) {
    w.fixed(std::bit_cast<std::uint64_t>(v), 8);
  } else if constexpr (std::is_same_v<T, std::string>) {
    return write_text(w, v, s);
  } else if constexpr (std::is_same_v<T, bytes>) {
    w.varint(v.size());
    w.raw(v.data(), v.size());
  } else if constexpr (std::is_same_v<T, pid>) {
    w.fixed(v.incarnation(), 8);
    if (v.is_null()) return true;
    w.fixed(v.id(), 8);
    w.varint(v.slot());
    const wire_context& ctx = s.context();
    if (v.incarnation() == ctx.local_incarnation) return write_text(w, ctx.local_address, s);
    // The book knows whether the address is UTF-8 (it checked when the address was entered).
    const coactor::address_book::entry e = coactor::address_book::find(v.address_index());
    if (!e.utf8) return write_text(w, e.address, s);
    w.varint(e.address.size());
    w.raw(e.address.data(), e.address.size());
  } else if constexpr (std::is_same_v<T, process_name>) {
    return (write_text(w, v.address, s) || (s.at_field("address"), false)) &&
           (write_text(w, v.name, s) || (s.at_field("name"), false));
  } else if constexpr (is_vector<T>::value || is_std_array<T>::value) {
    if constexpr (is_vector<T>::value) w.varint(v.size());
    std::size_t i = 0;
    for (const auto& item : v) {
      if (!write(w, static_cast<const typename T::value_type&>(item), s)) return s.at_index(i), false;
      ++i;
    }
  } else if constexpr (is_map<T>::value) {
    w.varint(v.size());
    for (const auto& [key, value] : v) {
      if (!write(w, key, s) || !write(w, value, s)) {
        if constexpr (std::is_same_v<typename T::key_type, std::string>)
          s.at_key(key);
        else
          s.at_key(std::to_string(key));
        return false;
      }
    }
  } else if constexpr (is_optional<T>::value) {
    w.byte(v.has_value() ? 1 : 0);
    if (v) return write(w, *v, s);
  } else if constexpr (is_variant<T>::value) {
    w.varint(v.index());
    return std::visit([&](const auto& alternative) { return write(w, alternative, s); }, v);
  } else if constexpr (reflectable<T>) {
    w.varint(field_count<T>);
    return write_fields(w, v, s, std::make_index_sequence<field_count<T>>{});
  } else {
    static_assert(has_wire_form<T>, "this type has no wire form (see coactor/codec.hpp)");
  }
  return true;
}

// ---- decoding ----

template <class T>
bool read(reader& r, T& v, codec_state& s);

template <class T>
bool read_integer(reader& r, T& v, codec_state& s) {
  std::uint64_t raw = 0;
  if (!r.varint(raw, s)) return false;
  if constexpr (std::is_signed_v<T>) {
    const std::int64_t value = unzigzag(raw);
    if (value < std::numeric_limits<T>::min() || value > std::numeric_limits<T>::max())
      return fail_range(s, std::to_string(value), type_name<T>());
    v = static_cast<T>(value);
  } else {
    if (raw > std::numeric_limits<T>::max())
      return fail_range(s, std::to_string(raw), type_name<T>());
    v = static_cast<T>(raw);
  }
  return true;
}

inline bool read_text(reader& r, std::string& v, codec_state& s, bool utf8) {
  std::uint64_t n = 0;
  std::string_view data;
  if (!r.length(n, 1, s) || !s.charge(n) || !r.raw(data, n, s)) return false;
  if (utf8) {
    if (std::size_t at = coactor::detail::invalid_utf8_at(data); at != std::string_view::npos)
      return fail_utf8(s, at);
  }
  v.assign(data);
  return true;
}

template <class T, std::size_t... I>
bool read_fields(reader& r, T& v, codec_state& s, std::index_sequence<I...>) {
  bool ok = true;
  ((ok = ok && (read(r, boost::pfr::get<I>(v), s) || (s.at_field(field_name<T, I>()), false))), ...);
  return ok;
}

template <class V, std::size_t... I>
bool read_alternative(reader& r, V& v, std::size_t index, codec_state& s, std::index_sequence<I...>) {
  bool ok = false;
  static_cast<void>(((index == I ? (ok = read(r, v.template emplace<I>(), s), true) : false) || ...));
  return ok;
}

template <class T>
bool read(reader& r, T& v, codec_state& s) {
  using namespace coactor::detail;
  if constexpr (std::is_same_v<T, bool>) {
    std::uint8_t b = 0;
    if (!r.byte(b, s)) return false;
    if (b > 1) return fail_tag(s, "bool byte is ", b);
    v = b == 1;
  } else if constexpr (wire_integer<T>) {
    return read_integer(r, v, s);
  } else if constexpr (wire_enum<T>) {
    std::underlying_type_t<T> underlying{};
    if (!read_integer(r, underlying, s)) return false;
    v = static_cast<T>(underlying);
  } else if constexpr (std::is_same_v<T, float>) {
    std::uint64_t bits = 0;
    if (!r.fixed(bits, 4, s)) return false;
    v = std::bit_cast<float>(static_cast<std::uint32_t>(bits));
  } else if constexpr (std::is_same_v<T, double>) {
    std::uint64_t bits = 0;
    if (!r.fixed(bits, 8, s)) return false;
    v = std::bit_cast<double>(bits);
  } else if constexpr (std::is_same_v<T, std::string>) {
    return read_text(r, v, s, true);
  } else if constexpr (std::is_same_v<T, bytes>) {
    std::uint64_t n = 0;
    std::string_view data;
    if (!r.length(n, 1, s) || !s.charge(n) || !r.raw(data, n, s)) return false;
    v.resize(n);
    if (n) std::memcpy(v.data(), data.data(), n);
  } else if constexpr (std::is_same_v<T, pid>) {
    std::uint64_t node = 0, id = 0, slot = 0;
    if (!r.fixed(node, 8, s)) return false;
    if (node == 0) {
      v = pid{};
      return true;
    }
    std::uint64_t length = 0;
    std::string_view address;  // interned below, never copied here
    if (!r.fixed(id, 8, s) || !r.varint(slot, s) || !r.length(length, 1, s) || !r.raw(address, length, s))
      return false;
    // Nearly always the address this thread saw last: then it is known to be UTF-8, and its index.
    coactor::address_book* const book = s.context().addresses;
    const std::uint32_t known =
        coactor::detail::recent_utf8(book ? book->number() : coactor::address_book::process_number, address);
    if (!known) {
      if (std::size_t at = coactor::detail::invalid_utf8_at(address); at != std::string_view::npos)
        return fail_utf8(s, at);
    }
    if (id == 0) return fail(s, errc::bad_message, "pid with id 0");
    if (slot > std::numeric_limits<std::uint32_t>::max()) return fail(s, errc::bad_message, "pid slot out of range");
    std::uint32_t index = 0;
    if (node != s.context().local_incarnation && !address.empty()) {
      if (address.size() > 255) return fail(s, errc::bad_message, "pid address longer than 255 bytes");
      index = known ? known : (book ? *book : coactor::address_book::process()).intern(address);
      if (index == 0) return fail(s, errc::too_large, "too many distinct node addresses");
    }
    v = pid(node, id, static_cast<std::uint32_t>(slot), index);
  } else if constexpr (std::is_same_v<T, process_name>) {
    return (read(r, v.address, s) || (s.at_field("address"), false)) && (read(r, v.name, s) || (s.at_field("name"), false));
  } else if constexpr (is_vector<T>::value) {
    using item = typename T::value_type;
    std::uint64_t n = 0;
    if (!r.length(n, min_size<item>(), s) || !s.charge(n * sizeof(item)) || !s.enter()) return false;
    depth_guard guard{s};
    v.clear();
    v.reserve(n);
    for (std::uint64_t i = 0; i < n; ++i) {
      item value{};
      if (!read(r, value, s)) return s.at_index(i), false;
      v.push_back(std::move(value));
    }
  } else if constexpr (is_std_array<T>::value) {
    if (!s.enter()) return false;
    depth_guard guard{s};
    for (std::size_t i = 0; i < v.size(); ++i)
      if (!read(r, v[i], s)) return s.at_index(i), false;
  } else if constexpr (is_map<T>::value) {
    using key = typename T::key_type;
    using mapped = typename T::mapped_type;
    std::uint64_t n = 0;
    if (!r.length(n, min_size<key>() + min_size<mapped>(), s) ||
        !s.charge(n * (sizeof(key) + sizeof(mapped) + 32)) || !s.enter())
      return false;
    depth_guard guard{s};
    v.clear();
    for (std::uint64_t i = 0; i < n; ++i) {
      key k{};
      mapped value{};
      if (!read(r, k, s) || !read(r, value, s)) return s.at_index(i), false;
      if (!v.emplace(std::move(k), std::move(value)).second) return s.at_index(i), fail(s, errc::bad_message, "duplicate map key");
    }
  } else if constexpr (is_optional<T>::value) {
    std::uint8_t present = 0;
    if (!r.byte(present, s)) return false;
    if (present > 1) return fail_tag(s, "optional tag is ", present);
    if (!present) {
      v.reset();
      return true;
    }
    if (!s.enter()) return false;
    depth_guard guard{s};
    return read(r, v.emplace(), s);
  } else if constexpr (is_variant<T>::value) {
    std::uint64_t index = 0;
    if (!r.varint(index, s)) return false;
    if (index >= std::variant_size_v<T>)
      return fail_count(s, "variant alternative ", index, " of ", std::variant_size_v<T>);
    if (!s.enter()) return false;
    depth_guard guard{s};
    return read_alternative(r, v, static_cast<std::size_t>(index), s, std::make_index_sequence<std::variant_size_v<T>>{});
  } else if constexpr (reflectable<T>) {
    std::uint64_t count = 0;
    if (!r.varint(count, s)) return false;
    if (count != field_count<T>)
      return fail_count(s, "struct has ", field_count<T>, " fields, message has ", count);
    if (!s.enter()) return false;
    depth_guard guard{s};
    return read_fields(r, v, s, std::make_index_sequence<field_count<T>>{});
  } else {
    static_assert(has_wire_form<T>, "this type has no wire form (see coactor/codec.hpp)");
  }
  return true;
}

}  // namespace detail

/// Appends the binary form of `value` to `out`. Fails (leaving `out` as it was) only on a string that is
/// not valid UTF-8.
template <serializable T>
result<void> encode(const T& value, std::string& out, const wire_context& context = {}) {
  const decode_limits limits;
  coactor::detail::codec_state s(limits, context);
  const std::size_t start = out.size();
  detail::buffered_writer w(out);
  if (!detail::write(w, value, s)) {
    out.resize(start);
    return s.to_error(type_name<T>());
  }
  w.flush();
  return {};
}

/// Reads a T from exactly the bytes of `in` (into `value`, which is overwritten).
template <serializable T>
result<void> decode_into(std::string_view in, T& value, const decode_limits& limits = {}, const wire_context& context = {}) {
  if (in.size() > limits.max_message_bytes)
    return error(errc::too_large, std::string(type_name<T>()) + ": message of " + std::to_string(in.size()) +
                                      " bytes exceeds the limit of " + std::to_string(limits.max_message_bytes));
  coactor::detail::codec_state s(limits, context);
  detail::reader r(in);
  if (!detail::read(r, value, s)) return s.to_error(type_name<T>());
  if (r.remaining())
    return error(errc::bad_message, std::string(type_name<T>()) + ": " + std::to_string(r.remaining()) + " trailing byte(s)");
  return {};
}

/// Reads a T from exactly the bytes of `in`.
template <serializable T>
result<T> decode(std::string_view in, const decode_limits& limits = {}, const wire_context& context = {}) {
  T value{};
  if (auto r = decode_into(in, value, limits, context); !r) return r.error();
  return value;
}

}  // namespace coactor::binary
