// coactor: the JSON codec.
//
// A message as JSON text (RFC 8259, UTF-8), for people and for programs in other languages. Encoding
// writes the text straight from the struct, compact (no spaces or newlines). Decoding checks the text
// with nlohmann/json's parser (in src/codec/json.cpp; this header does not include it) into a compact
// document, within the limits, and then reads the struct from that document:
//
//   bool          true / false
//   integers      a JSON integer, exact to 64 bits; decoding refuses numbers with a fraction or an
//                 exponent ("1.0", "1e3") and values out of the field's range
//   enum          its underlying integer
//   f32 / f64     a number: the shortest text that reads back as the same value, with ".0" added when it
//                 would look like an integer ("2.5", "1.0", "1e+300"); NaN, +inf and -inf as the strings
//                 "NaN", "Infinity", "-Infinity". Decoding accepts those strings, numbers and integers
//                 (an f32 refuses a finite number beyond its range)
//   string        a string: UTF-8 passes through (validated); '"' and '\' are escaped as \" and \\,
//                 control characters (U+0000..U+001F) as \u00XX. Decoding accepts every JSON escape.
//   bytes         a string: base64, RFC 4648 standard alphabet, with padding ("AP8=" for 00 ff);
//                 decoding refuses any other character, bad padding and non-zero padding bits
//   vector<T>     an array
//   array<T,N>    an array of exactly N elements
//   map<K,V>      an object: string keys as they are, integer keys as decimal strings ({"-3":...});
//                 decoding accepts only the canonical decimal form (no '+', no leading zeros),
//                 range-checks it, and refuses a key given twice
//   optional<T>   null or the value; a struct member that is missing reads as empty. (An
//                 optional<optional<T>> holding an empty optional reads back as an empty outer one.)
//   variant<...>  an object with exactly one member, keyed by the alternative's wire name (type_name.hpp):
//                 {"i32":5}, {"app::ping":{"n":1}}; an unknown name is errc::unknown_type. (Alternatives
//                 with the same wire name, such as long and long long, read back as the first of them.)
//   pid           its string form "coactor://<address>/pid/<incarnation>.<slot>.<id>" (see pid.hpp); a
//                 pid of the local node (wire_context::local_incarnation) is written with
//                 wire_context::local_address and reads back without an address; the null pid is null
//   process_name  its string form "coactor://<address>/name/<name>" (see process_name.hpp)
//   struct        an object of the fields, keyed by field name, in declaration order. Decoding ignores
//                 members it does not know (a newer sender may have added fields), refuses a member
//                 given twice, and a missing member is an error unless the field is an optional.
//
// A message that is not a struct is just its value: a std::string message is a JSON string. Example:
//   struct item { std::string name; double price; std::optional<int> count; coactor::pid owner; };
//   item{"tea", 2.5, std::nullopt, {}}  ->  {"name":"tea","price":2.5,"count":null,"owner":null}
//
// Input is one JSON value with nothing around it but whitespace (a UTF-8 byte order mark at the very start
// is skipped); a raw NUL byte anywhere is refused (inside strings it must be written \u0000).
//
// Limits (decode_limits): input over max_message_bytes is refused before parsing; arrays and objects
// nested deeper than max_depth stop the parse; the parsed document (every value, string and key) and
// the decoded strings and containers count against max_allocation.
#pragma once

#include <coactor/codec.hpp>
#include <coactor/detail/codec_state.hpp>
#include <coactor/pid.hpp>
#include <coactor/process_name.hpp>
#include <coactor/reflect.hpp>
#include <coactor/type_name.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>

namespace coactor::json {

/// Checks that `in` is one JSON value within the limits and returns it printed again: compact when
/// `indent` < 0, else one member or element per line, indented by `indent` spaces per level. Members keep
/// their order. For printing messages of a type this node does not know.
result<std::string> reformat(std::string_view in, int indent = -1, const decode_limits& limits = {});

namespace detail {

using coactor::detail::codec_state;

// ---- the parsed document (src/codec/json.cpp) ----

enum class json_kind : std::uint8_t {
  null,
  boolean,
  unsigned_integer,  ///< an integer >= 0 that fits in 64 bits: as_uint()
  negative_integer,  ///< an integer < 0 that fits in 64 bits: as_int()
  big_integer,       ///< an integer literal beyond 64 bits: as_string() is its text
  floating,          ///< a number with a fraction or an exponent: as_double()
  string,
  array,
  object,
};

/// A value of a parsed json_document (valid while the document lives); a default-constructed one stands
/// for "absent".
class json_value {
 public:
  json_value() noexcept = default;
  json_value(const void* document, std::size_t index) noexcept : doc_(document), index_(index) {}

  explicit operator bool() const noexcept { return doc_ != nullptr; }

  json_kind kind() const noexcept;
  bool as_bool() const noexcept;
  std::uint64_t as_uint() const noexcept;
  std::int64_t as_int() const noexcept;
  /// Any number as a double.
  double as_double() const noexcept;
  /// The text of a string (unescaped), or the literal of a big_integer.
  std::string_view as_string() const noexcept;

  /// The number of elements of an array, or of members of an object.
  std::size_t size() const noexcept;
  /// The first element of an array, or the value of the first member of an object. Needs size() > 0.
  json_value first() const noexcept;
  /// The element or member value after this one in its array or object (call it size() - 1 times).
  json_value next() const noexcept;
  /// The key of this member value (a value reached through an object's first() / next()).
  std::string_view key() const noexcept;

 private:
  const void* doc_ = nullptr;
  std::size_t index_ = 0;
};

/// The parsed form of one JSON text.
class json_document {
 public:
  json_document() noexcept;
  ~json_document();
  json_document(const json_document&) = delete;
  json_document& operator=(const json_document&) = delete;

  /// Parses `in` (one JSON value, nothing after it but whitespace) within `limits`. The error's detail
  /// starts with `type` ("app::ping: invalid JSON at byte 7: ...").
  result<void> parse(std::string_view in, const decode_limits& limits, std::string_view type);
  json_value root() const noexcept;
  /// Bytes of the document charged against max_allocation.
  std::size_t allocated() const noexcept;

  struct impl;

 private:
  impl* impl_ = nullptr;
};

// ---- out-of-line helpers (src/codec/json.cpp) ----

/// Appends `s` as a JSON string; on invalid UTF-8 appends nothing and returns the offset of the bad byte.
std::size_t append_string(std::string& out, std::string_view s);
void append_uint(std::string& out, std::uint64_t v);
void append_int(std::string& out, std::int64_t v);
void append_double(std::string& out, double v);
void append_float(std::string& out, float v);
void append_base64(std::string& out, const bytes& data);
bool append_pid(std::string& out, const pid& p, codec_state& s);

/// Records "expected <expected>, got <what v is>".
bool type_mismatch(json_value v, std::string_view expected, codec_state& s);
/// Reads an integer in [min, max] (`type` names the field's type in errors); `bits` gets the value.
bool read_integer(json_value v, std::int64_t min, std::uint64_t max, std::string_view type, std::uint64_t& bits,
                  codec_state& s);
/// The same for a map key, which holds the integer in decimal.
bool read_integer_key(std::string_view key, std::int64_t min, std::uint64_t max, std::string_view type,
                      std::uint64_t& bits, codec_state& s);
bool read_double(json_value v, double& out, codec_state& s);
bool read_float(json_value v, float& out, codec_state& s);
bool read_string(json_value v, std::string& out, codec_state& s);
bool read_bytes(json_value v, bytes& out, codec_state& s);
bool read_pid(json_value v, pid& out, codec_state& s);
bool read_process_name(json_value v, process_name& out, codec_state& s);
/// Records that a struct member is missing, or given twice.
bool missing_field(std::string_view name, codec_state& s);
bool duplicate_field(std::string_view name, codec_state& s);
/// Records that a variant's key names none of `alternatives`.
bool unknown_alternative(std::string_view key, const std::string_view* alternatives, std::size_t count,
                         codec_state& s);
/// Adds a map key or variant key to the error path (shortened if long).
void at_key(std::string_view key, codec_state& s);

struct depth_guard {
  codec_state& s;
  ~depth_guard() { s.leave(); }
};

template <class T>
struct integer_range {
  static constexpr std::int64_t min = static_cast<std::int64_t>(std::numeric_limits<T>::min());
  static constexpr std::uint64_t max = static_cast<std::uint64_t>(std::numeric_limits<T>::max());
};

/// `,"name":` (without the comma for the first field): written in one append.
template <class T, std::size_t I>
struct member_prefix {
  static constexpr std::string_view name = field_name<T, I>();
  static constexpr auto storage = [] {
    coactor::detail::fixed_name<name.size() + 4> out;
    if (I > 0) out.append(",");
    out.append("\"");
    out.append(name);
    out.append("\":");
    return out;
  }();
  static constexpr std::string_view value = storage.view();
};

// ---- encoding ----

template <class T>
bool write(std::string& out, const T& v, codec_state& s);

inline bool write_text(std::string& out, std::string_view text, codec_state& s) {
  if (std::size_t at = append_string(out, text); at != std::string_view::npos)
    return s.fail(errc::bad_message, "invalid UTF-8 at byte " + std::to_string(at) + " of a string");
  return true;
}

template <class K>
bool write_key(std::string& out, const K& key, codec_state& s) {
  if constexpr (std::is_same_v<K, std::string>) {
    return write_text(out, key, s);
  } else {
    out.push_back('"');
    if constexpr (std::is_signed_v<K>)
      append_int(out, static_cast<std::int64_t>(key));
    else
      append_uint(out, static_cast<std::uint64_t>(key));
    out.push_back('"');
    return true;
  }
}

template <class T, std::size_t... I>
bool write_fields(std::string& out, const T& v, codec_state& s, std::index_sequence<I...>) {
  bool ok = true;
  ((ok = ok && (out.append(member_prefix<T, I>::value),
                write(out, boost::pfr::get<I>(v), s) || (s.at_field(field_name<T, I>()), false))),
   ...);
  return ok;
}

template <class T>
bool write(std::string& out, const T& v, codec_state& s) {
  using namespace coactor::detail;
  if constexpr (std::is_same_v<T, bool>) {
    out.append(v ? "true" : "false");
  } else if constexpr (wire_integer<T>) {
    if constexpr (std::is_signed_v<T>)
      append_int(out, static_cast<std::int64_t>(v));
    else
      append_uint(out, static_cast<std::uint64_t>(v));
  } else if constexpr (wire_enum<T>) {
    using underlying = std::underlying_type_t<T>;
    if constexpr (std::is_same_v<underlying, bool>)
      append_uint(out, static_cast<bool>(v) ? 1 : 0);  // an integer, like every enum
    else
      return write(out, static_cast<underlying>(v), s);
  } else if constexpr (std::is_same_v<T, float>) {
    append_float(out, v);
  } else if constexpr (std::is_same_v<T, double>) {
    append_double(out, v);
  } else if constexpr (std::is_same_v<T, std::string>) {
    return write_text(out, v, s);
  } else if constexpr (std::is_same_v<T, bytes>) {
    append_base64(out, v);
  } else if constexpr (std::is_same_v<T, pid>) {
    return append_pid(out, v, s);
  } else if constexpr (std::is_same_v<T, process_name>) {
    return write_text(out, v.to_string(), s);
  } else if constexpr (is_vector<T>::value || is_std_array<T>::value) {
    out.push_back('[');
    std::size_t i = 0;
    for (const auto& item : v) {
      if (i) out.push_back(',');
      if (!write(out, static_cast<const typename T::value_type&>(item), s)) return s.at_index(i), false;
      ++i;
    }
    out.push_back(']');
  } else if constexpr (is_map<T>::value) {
    out.push_back('{');
    bool first = true;
    for (const auto& [key, value] : v) {
      if (!first) out.push_back(',');
      first = false;
      if (!write_key(out, key, s)) return false;
      out.push_back(':');
      if (!write(out, value, s)) {
        if constexpr (std::is_same_v<typename T::key_type, std::string>)
          at_key(key, s);
        else
          at_key(std::to_string(key), s);
        return false;
      }
    }
    out.push_back('}');
  } else if constexpr (is_optional<T>::value) {
    if (!v) {
      out.append("null");
      return true;
    }
    return write(out, *v, s);
  } else if constexpr (is_variant<T>::value) {
    return std::visit(
        [&](const auto& alternative) {
          using alt = std::remove_cvref_t<decltype(alternative)>;
          out.push_back('{');
          if (!write_text(out, type_name<alt>(), s)) return false;
          out.push_back(':');
          if (!write(out, alternative, s)) return at_key(type_name<alt>(), s), false;
          out.push_back('}');
          return true;
        },
        v);
  } else if constexpr (reflectable<T>) {
    out.push_back('{');
    if (!write_fields(out, v, s, std::make_index_sequence<field_count<T>>{})) return false;
    out.push_back('}');
  } else {
    static_assert(has_wire_form<T>, "this type has no wire form (see coactor/codec.hpp)");
  }
  return true;
}

// ---- decoding ----

template <class T>
bool read(json_value j, T& v, codec_state& s);

template <std::size_t N>
constexpr std::size_t find_field(const std::array<std::string_view, N>& names, std::string_view key,
                                 std::size_t hint) noexcept {
  if (hint < N && names[hint] == key) return hint;  // members usually come in declaration order
  for (std::size_t i = 0; i < N; ++i)
    if (names[i] == key) return i;
  return N;
}

template <class T, std::size_t I, class F>
bool read_member(json_value j, F& field, codec_state& s) {
  if (!j) {
    if constexpr (coactor::detail::is_optional<F>::value) {
      field.reset();
      return true;
    } else {
      return missing_field(field_name<T, I>(), s);
    }
  }
  if (read(j, field, s)) return true;
  s.at_field(field_name<T, I>());
  return false;
}

template <class T, std::size_t... I>
bool read_fields(json_value j, T& v, codec_state& s, std::index_sequence<I...>) {
  constexpr std::size_t n = sizeof...(I);
  json_value found[n ? n : 1] = {};
  const std::size_t members = j.size();
  json_value m = members ? j.first() : json_value{};
  for (std::size_t k = 0; k < members; ++k) {
    if (k) m = m.next();
    const std::size_t f = find_field(field_names<T>, m.key(), k);
    if (f == n) continue;  // not ours: a newer sender's field
    if (found[f]) return duplicate_field(field_names<T>[f], s);
    found[f] = m;
  }
  bool ok = true;
  ((ok = ok && read_member<T, I>(found[I], boost::pfr::get<I>(v), s)), ...);
  return ok;
}

template <class V, std::size_t... I>
bool read_alternative(json_value j, std::string_view key, V& v, codec_state& s, std::index_sequence<I...>) {
  bool ok = false;
  const bool matched = ((key == type_name<std::variant_alternative_t<I, V>>()
                             ? (ok = read(j, v.template emplace<I>(), s), true)
                             : false) ||
                        ...);  // stops at the first alternative of that name
  if (!matched) {
    static constexpr std::string_view names[] = {type_name<std::variant_alternative_t<I, V>>()...};
    return unknown_alternative(key, names, sizeof...(I), s);
  }
  if (!ok) at_key(key, s);
  return ok;
}

template <class T>
bool read(json_value j, T& v, codec_state& s) {
  using namespace coactor::detail;
  using json::detail::json_kind;
  if constexpr (std::is_same_v<T, bool>) {
    if (j.kind() != json_kind::boolean) return type_mismatch(j, "true or false", s);
    v = j.as_bool();
  } else if constexpr (wire_integer<T>) {
    std::uint64_t bits;
    if (!read_integer(j, integer_range<T>::min, integer_range<T>::max, type_name<T>(), bits, s)) return false;
    v = static_cast<T>(bits);
  } else if constexpr (wire_enum<T>) {
    using underlying = std::underlying_type_t<T>;
    std::uint64_t bits;
    if (!read_integer(j, integer_range<underlying>::min, integer_range<underlying>::max, type_name<underlying>(),
                      bits, s))
      return false;
    v = static_cast<T>(static_cast<underlying>(bits));
  } else if constexpr (std::is_same_v<T, float>) {
    return read_float(j, v, s);
  } else if constexpr (std::is_same_v<T, double>) {
    return read_double(j, v, s);
  } else if constexpr (std::is_same_v<T, std::string>) {
    return read_string(j, v, s);
  } else if constexpr (std::is_same_v<T, bytes>) {
    return read_bytes(j, v, s);
  } else if constexpr (std::is_same_v<T, pid>) {
    return read_pid(j, v, s);
  } else if constexpr (std::is_same_v<T, process_name>) {
    return read_process_name(j, v, s);
  } else if constexpr (is_vector<T>::value) {
    using item = typename T::value_type;
    if (j.kind() != json_kind::array) return type_mismatch(j, "an array", s);
    const std::size_t n = j.size();
    if (!s.charge(n * sizeof(item)) || !s.enter()) return false;
    depth_guard guard{s};
    v.clear();
    v.reserve(n);
    json_value e = n ? j.first() : json_value{};
    for (std::size_t i = 0; i < n; ++i) {
      if (i) e = e.next();
      item value{};
      if (!read(e, value, s)) return s.at_index(i), false;
      v.push_back(std::move(value));
    }
  } else if constexpr (is_std_array<T>::value) {
    if (j.kind() != json_kind::array) return type_mismatch(j, "an array", s);
    if (j.size() != v.size())
      return s.fail(errc::bad_message, "expected an array of " + std::to_string(v.size()) + " elements, got " +
                                           std::to_string(j.size()));
    if (!s.enter()) return false;
    depth_guard guard{s};
    json_value e = v.size() ? j.first() : json_value{};
    for (std::size_t i = 0; i < v.size(); ++i) {
      if (i) e = e.next();
      if (!read(e, v[i], s)) return s.at_index(i), false;
    }
  } else if constexpr (is_map<T>::value) {
    using key = typename T::key_type;
    using mapped = typename T::mapped_type;
    if (j.kind() != json_kind::object) return type_mismatch(j, "an object", s);
    const std::size_t n = j.size();
    if (!s.charge(n * (sizeof(key) + sizeof(mapped) + 32)) || !s.enter()) return false;
    depth_guard guard{s};
    v.clear();
    json_value m = n ? j.first() : json_value{};
    for (std::size_t i = 0; i < n; ++i) {
      if (i) m = m.next();
      const std::string_view text = m.key();
      key k{};
      if constexpr (std::is_same_v<key, std::string>) {
        if (!s.charge(text.size())) return false;
        k.assign(text);
      } else {
        std::uint64_t bits;
        if (!read_integer_key(text, integer_range<key>::min, integer_range<key>::max, type_name<key>(), bits, s))
          return false;
        k = static_cast<key>(bits);
      }
      mapped value{};
      if (!read(m, value, s)) return at_key(text, s), false;
      if (!v.emplace(std::move(k), std::move(value)).second)
        return at_key(text, s), s.fail(errc::bad_message, "duplicate map key");
    }
  } else if constexpr (is_optional<T>::value) {
    if (j.kind() == json_kind::null) {
      v.reset();
      return true;
    }
    if (!s.enter()) return false;
    depth_guard guard{s};
    return read(j, v.emplace(), s);
  } else if constexpr (is_variant<T>::value) {
    if (j.kind() != json_kind::object) return type_mismatch(j, "an object naming the variant alternative", s);
    if (j.size() != 1)
      return s.fail(errc::bad_message, "expected an object with exactly one member (the alternative's type name), got " +
                                           std::to_string(j.size()) + " members");
    if (!s.enter()) return false;
    depth_guard guard{s};
    const json_value m = j.first();
    return read_alternative(m, m.key(), v, s, std::make_index_sequence<std::variant_size_v<T>>{});
  } else if constexpr (reflectable<T>) {
    if (j.kind() != json_kind::object) return type_mismatch(j, "an object", s);
    if (!s.enter()) return false;
    depth_guard guard{s};
    return read_fields(j, v, s, std::make_index_sequence<field_count<T>>{});
  } else {
    static_assert(has_wire_form<T>, "this type has no wire form (see coactor/codec.hpp)");
  }
  return true;
}

}  // namespace detail

/// Appends the JSON form of `value` to `out` (compact). Fails (leaving `out` as it was) only on a string
/// that is not valid UTF-8.
template <serializable T>
result<void> encode(const T& value, std::string& out, const wire_context& context = {}) {
  const decode_limits limits;
  coactor::detail::codec_state s(limits, context);
  const std::size_t start = out.size();
  if (!detail::write(out, value, s)) {
    out.resize(start);
    return s.to_error(type_name<T>());
  }
  return {};
}

/// Reads a T from the JSON text `in` (into `value`, which is overwritten).
template <serializable T>
result<void> decode_into(std::string_view in, T& value, const decode_limits& limits = {},
                         const wire_context& context = {}) {
  detail::json_document document;
  if (auto r = document.parse(in, limits, type_name<T>()); !r) return r;
  coactor::detail::codec_state s(limits, context);
  static_cast<void>(s.charge(document.allocated()));  // within the limit: the parse checked it
  if (!detail::read(document.root(), value, s)) return s.to_error(type_name<T>());
  return {};
}

/// Reads a T from the JSON text `in`.
template <serializable T>
result<T> decode(std::string_view in, const decode_limits& limits = {}, const wire_context& context = {}) {
  T value{};
  if (auto r = decode_into(in, value, limits, context); !r) return r.error();
  return value;
}

}  // namespace coactor::json
