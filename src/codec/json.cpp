// The out-of-line half of the JSON codec (see include/coactor/codec/json.hpp): the document that a JSON
// text is parsed into, and the helpers the header's templates call.
//
// Parsing: nlohmann/json's SAX parser checks the syntax and the UTF-8 and unescapes strings; our handler
// (`builder`) records each value as one `node` in a flat vector, in document order, and copies string
// and key bytes into one buffer. The parser keeps no recursion of its own, and the builder stops it at
// max_depth, so no input can exhaust the stack. Every node and every byte of text is charged against
// max_allocation as it is added.
#include <coactor/codec/json.hpp>
#include <coactor/detail/utf8.hpp>

#include <nlohmann/json.hpp>

#include <bit>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <string>
#include <vector>

namespace coactor::json {
namespace detail {
namespace {

using coactor::detail::invalid_utf8_at;

// A member's key is a node of its own, just before the member's value; it is never handed out.
constexpr auto key_kind = static_cast<json_kind>(255);

/// One value of the document. Containers: `a` is the index just past their last descendant, `b` the
/// number of elements or members. Strings, keys and big integers: `a` is the offset of their text in
/// impl::text, `b` its length. Numbers: `a` holds the value's bits. Booleans: `a` is 0 or 1.
struct node {
  json_kind kind;
  std::uint64_t a;
  std::uint64_t b;
};

bool is_container(json_kind k) noexcept { return k == json_kind::array || k == json_kind::object; }

}  // namespace

struct json_document::impl {
  std::vector<node> nodes;
  std::string text;
  std::vector<std::size_t> open;  // the arrays and objects being parsed, outermost first
  std::size_t allocated = 0;
  std::size_t budget = 0;
  const decode_limits* limits = nullptr;
  // a failure noticed by the builder (the parser's own errors come through parse_error)
  errc code = errc::bad_message;
  std::string what;

  void reset(const decode_limits& l) {
    nodes.clear();
    text.clear();
    open.clear();
    allocated = 0;
    budget = l.max_allocation;
    limits = &l;
    code = errc::bad_message;
    what.clear();
  }

  const node& at(std::size_t i) const noexcept { return nodes[i]; }
  std::string_view text_of(const node& n) const noexcept {
    return std::string_view(text).substr(static_cast<std::size_t>(n.a), static_cast<std::size_t>(n.b));
  }
};

namespace {

using impl = json_document::impl;

// One document per thread is kept for reuse, so that decoding a small message allocates nothing here.
// A document that grew large gives its memory back first.
thread_local std::unique_ptr<impl> spare;

constexpr std::size_t keep_nodes = 4096;
constexpr std::size_t keep_text = 64 * 1024;

/// At most `max` bytes of `s`, cut on a UTF-8 character boundary, with "..." when cut.
std::string shorten(std::string_view s, std::size_t max = 64) {
  if (s.size() <= max) return std::string(s);
  std::size_t end = max;
  while (end > 0 && (static_cast<unsigned char>(s[end]) & 0xC0) == 0x80) --end;
  return std::string(s.substr(0, end)) + "...";
}

/// `s` with every byte that is not valid UTF-8 written as \xNN (error texts may travel as strings).
std::string sanitize(std::string_view s) {
  std::string out;
  for (;;) {
    const std::size_t bad = invalid_utf8_at(s);
    if (bad == std::string_view::npos) break;
    static constexpr char hex[] = "0123456789abcdef";
    const auto c = static_cast<unsigned char>(s[bad]);
    out.append(s.substr(0, bad));
    out.append("\\x");
    out.push_back(hex[c >> 4]);
    out.push_back(hex[c & 15]);
    s.remove_prefix(bad + 1);
  }
  out.append(s);
  return out;
}

std::string decimal(std::uint64_t v) { return std::to_string(v); }
std::string decimal(std::int64_t v) { return std::to_string(v); }

std::string number_text(double v) {
  std::string out;
  append_double(out, v);
  return out;
}

/// The SAX handler that builds the document.
class builder {
 public:
  using json = nlohmann::json;
  explicit builder(impl& d) noexcept : d_(d) {}

  bool null() { return add(json_kind::null, 0, 0); }
  bool boolean(bool v) { return add(json_kind::boolean, v ? 1 : 0, 0); }
  bool number_integer(json::number_integer_t v) {
    return v >= 0 ? add(json_kind::unsigned_integer, static_cast<std::uint64_t>(v), 0)
                  : add(json_kind::negative_integer, static_cast<std::uint64_t>(v), 0);
  }
  bool number_unsigned(json::number_unsigned_t v) { return add(json_kind::unsigned_integer, v, 0); }
  bool number_float(json::number_float_t v, const json::string_t& literal) {
    // An integer literal too large for 64 bits arrives here too: keep its text, so that an integer field
    // can say it is out of range rather than not an integer. (Test for digits only: nlohmann has put the
    // locale's decimal point, not necessarily '.', into the text of a number with a fraction.)
    if (literal.find_first_not_of("-0123456789") == std::string::npos) return add_text(json_kind::big_integer, literal);
    return add(json_kind::floating, std::bit_cast<std::uint64_t>(v), 0);
  }
  bool string(json::string_t& v) { return add_text(json_kind::string, v); }
  bool binary(json::binary_t&) { return fail(errc::bad_message, "binary values are not JSON"); }  // never called
  bool key(json::string_t& v) {
    ++d_.nodes[d_.open.back()].b;
    return add_text(key_kind, v, false);
  }
  bool start_object(std::size_t) { return start(json_kind::object); }
  bool end_object() { return end(); }
  bool start_array(std::size_t) { return start(json_kind::array); }
  bool end_array() { return end(); }

  bool parse_error(std::size_t position, const std::string& last_token, const nlohmann::detail::exception& e) {
    // e.what(): "[json.exception.parse_error.101] parse error at line 1, column 5: syntax error while
    // parsing array - unexpected end of input; expected ']'" or "[json.exception.out_of_range.406] number
    // overflow parsing '1e999'". Keep the explanation, say where, and shorten the echoed token.
    std::string_view what = e.what();
    if (std::size_t close = what.find("] "); what.substr(0, 1) == "[" && close != std::string_view::npos)
      what.remove_prefix(close + 2);
    if (what.substr(0, 15) == "parse error at ")
      if (std::size_t colon = what.find(": "); colon != std::string_view::npos) what.remove_prefix(colon + 2);
    std::string text(what);
    if (last_token.size() > 40) {
      if (std::size_t at = text.find(last_token); at != std::string::npos) {
        std::size_t keep = last_token.size() - 32;
        while (keep < last_token.size() && (static_cast<unsigned char>(last_token[keep]) & 0xC0) == 0x80) ++keep;
        text.replace(at, last_token.size(), "..." + last_token.substr(keep));
      }
    }
    d_.code = errc::bad_message;
    // nlohmann counts from 1 (and counts the end of input as a character): make it an offset.
    d_.what = "invalid JSON at byte " + std::to_string(position ? position - 1 : 0) + ": " + sanitize(text);
    return false;
  }

 private:
  bool fail(errc code, std::string what) {
    d_.code = code;
    d_.what = std::move(what);
    return false;
  }
  bool charge(std::size_t bytes) {
    if (bytes > d_.budget)
      return fail(errc::too_large, "decoded content exceeds " + std::to_string(d_.limits->max_allocation) + " bytes");
    d_.budget -= bytes;
    d_.allocated += bytes;
    return true;
  }
  bool add(json_kind kind, std::uint64_t a, std::uint64_t b, bool element = true) {
    if (!charge(sizeof(node))) return false;
    if (element && !d_.open.empty()) {
      node& parent = d_.nodes[d_.open.back()];
      if (parent.kind == json_kind::array) ++parent.b;  // objects count their keys
    }
    d_.nodes.push_back(node{kind, a, b});
    return true;
  }
  bool add_text(json_kind kind, std::string_view v, bool element = true) {
    if (!charge(v.size())) return false;
    const std::size_t offset = d_.text.size();
    d_.text.append(v);
    return add(kind, offset, v.size(), element);
  }
  bool start(json_kind kind) {
    if (d_.open.size() >= d_.limits->max_depth)
      return fail(errc::too_large, "nested deeper than " + std::to_string(d_.limits->max_depth) + " levels");
    if (!add(kind, 0, 0)) return false;
    d_.open.push_back(d_.nodes.size() - 1);
    return true;
  }
  bool end() {
    d_.nodes[d_.open.back()].a = d_.nodes.size();
    d_.open.pop_back();
    return true;
  }

  impl& d_;
};

const impl& doc(const void* p) noexcept { return *static_cast<const impl*>(p); }

std::string describe(json_value v) {
  switch (v.kind()) {
    case json_kind::null: return "null";
    case json_kind::boolean: return v.as_bool() ? "true" : "false";
    case json_kind::unsigned_integer: return "integer " + decimal(v.as_uint());
    case json_kind::negative_integer: return "integer " + decimal(v.as_int());
    case json_kind::big_integer: return "integer " + shorten(v.as_string());
    case json_kind::floating: return "number " + number_text(v.as_double());
    case json_kind::string: return "string";
    case json_kind::array: return "array";
    case json_kind::object: return "object";
  }
  return "?";
}

bool out_of_range(std::string_view value, std::int64_t min, std::uint64_t max, std::string_view type, codec_state& s) {
  return s.fail(errc::bad_message, std::string(value) + " is out of range for " + std::string(type) + " [" +
                                       decimal(min) + ", " + decimal(max) + "]");
}

// ---- text ----

// Which bytes a JSON string cannot hold as they are.
constexpr std::array<bool, 256> needs_escape = [] {
  std::array<bool, 256> t{};
  for (int c = 0; c < 0x20; ++c) t[c] = true;
  t['"'] = true;
  t['\\'] = true;
  return t;
}();

/// Appends the escaped bytes of `s` (valid UTF-8), without quotes.
void append_escaped(std::string& out, std::string_view s) {
  static constexpr char hex[] = "0123456789abcdef";
  std::size_t start = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (!needs_escape[c]) continue;
    out.append(s.data() + start, i - start);
    start = i + 1;
    if (c == '"' || c == '\\') {
      const char escaped[2] = {'\\', static_cast<char>(c)};
      out.append(escaped, 2);
    } else {
      const char escaped[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
      out.append(escaped, 6);
    }
  }
  out.append(s.data() + start, s.size() - start);
}

// ---- base64 (RFC 4648, section 4) ----

constexpr char base64_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

constexpr std::array<std::int8_t, 256> base64_values = [] {
  std::array<std::int8_t, 256> t{};
  for (auto& v : t) v = -1;
  for (int i = 0; i < 64; ++i) t[static_cast<unsigned char>(base64_alphabet[i])] = static_cast<std::int8_t>(i);
  return t;
}();

bool bad_base64(std::string what, codec_state& s) { return s.fail(errc::bad_message, "invalid base64: " + what); }

// ---- printing a document (reformat) ----

void newline(std::string& out, int indent, std::size_t level) {
  out.push_back('\n');
  out.append(static_cast<std::size_t>(indent) * level, ' ');
}

void print(std::string& out, json_value v, int indent, std::size_t level) {
  switch (v.kind()) {
    case json_kind::null: out.append("null"); return;
    case json_kind::boolean: out.append(v.as_bool() ? "true" : "false"); return;
    case json_kind::unsigned_integer: append_uint(out, v.as_uint()); return;
    case json_kind::negative_integer: append_int(out, v.as_int()); return;
    case json_kind::big_integer: out.append(v.as_string()); return;
    case json_kind::floating: append_double(out, v.as_double()); return;
    case json_kind::string:
      out.push_back('"');
      append_escaped(out, v.as_string());
      out.push_back('"');
      return;
    case json_kind::array:
    case json_kind::object: {
      const bool object = v.kind() == json_kind::object;
      const std::size_t n = v.size();
      out.push_back(object ? '{' : '[');
      json_value e = n ? v.first() : json_value{};
      for (std::size_t k = 0; k < n; ++k) {
        if (k) {
          out.push_back(',');
          e = e.next();
        }
        if (indent >= 0) newline(out, indent, level + 1);
        if (object) {
          out.push_back('"');
          append_escaped(out, e.key());
          out.append(indent >= 0 ? "\": " : "\":");
        }
        print(out, e, indent, level + 1);  // depth: at most max_depth, checked by the parse
      }
      if (n && indent >= 0) newline(out, indent, level);
      out.push_back(object ? '}' : ']');
      return;
    }
  }
}

}  // namespace

// ---- json_document ----

json_document::json_document() noexcept {
  impl_ = spare.release();  // null when none is spare: created on first parse
}

json_document::~json_document() {
  if (!impl_) return;
  if (impl_->nodes.capacity() > keep_nodes || impl_->text.capacity() > keep_text ||
      impl_->open.capacity() > keep_nodes) {
    delete impl_;
    return;
  }
  if (!spare) spare.reset(impl_);
  else delete impl_;
}

result<void> json_document::parse(std::string_view in, const decode_limits& limits, std::string_view type) {
  auto failure = [&](errc code, std::string_view what) {
    return error(code, type.empty() ? std::string(what) : std::string(type) + ": " + std::string(what));
  };
  if (in.size() > limits.max_message_bytes)
    return failure(errc::too_large, "message of " + std::to_string(in.size()) + " bytes exceeds the limit of " +
                                        std::to_string(limits.max_message_bytes));
  // nlohmann's lexer takes a NUL byte for the end of the input and would ignore whatever follows it.
  // No JSON text holds a raw NUL byte (in a string it must be escaped), so refuse it here.
  if (const void* nul = in.empty() ? nullptr : std::memchr(in.data(), 0, in.size()))
    return failure(errc::bad_message, "invalid JSON at byte " +
                                          std::to_string(static_cast<const char*>(nul) - in.data()) +
                                          ": NUL byte (not allowed outside strings, and escaped as \\u0000 inside)");
  if (!impl_) impl_ = new impl;
  impl_->reset(limits);
  builder b(*impl_);
  const char* begin = in.data();
  if (!nlohmann::json::sax_parse(begin, begin + in.size(), &b, nlohmann::json::input_format_t::json, true, false)) {
    impl_->nodes.clear();
    return failure(impl_->code, impl_->what);
  }
  return {};
}

json_value json_document::root() const noexcept {
  return impl_ && !impl_->nodes.empty() ? json_value(impl_, 0) : json_value();
}

std::size_t json_document::allocated() const noexcept { return impl_ ? impl_->allocated : 0; }

// ---- json_value ----

json_kind json_value::kind() const noexcept { return doc(doc_).at(index_).kind; }
bool json_value::as_bool() const noexcept { return doc(doc_).at(index_).a != 0; }
std::uint64_t json_value::as_uint() const noexcept { return doc(doc_).at(index_).a; }
std::int64_t json_value::as_int() const noexcept { return static_cast<std::int64_t>(doc(doc_).at(index_).a); }

double json_value::as_double() const noexcept {
  const node& n = doc(doc_).at(index_);
  switch (n.kind) {
    case json_kind::unsigned_integer: return static_cast<double>(n.a);
    case json_kind::negative_integer: return static_cast<double>(static_cast<std::int64_t>(n.a));
    case json_kind::floating: return std::bit_cast<double>(n.a);
    case json_kind::big_integer: {
      const std::string_view text = doc(doc_).text_of(n);
      double v = 0;
      const auto r = std::from_chars(text.data(), text.data() + text.size(), v);
      if (r.ec == std::errc::result_out_of_range)
        return text.front() == '-' ? -std::numeric_limits<double>::infinity() : std::numeric_limits<double>::infinity();
      return v;
    }
    default: return 0;
  }
}

std::string_view json_value::as_string() const noexcept {
  const node& n = doc(doc_).at(index_);
  return n.kind == json_kind::string || n.kind == json_kind::big_integer ? doc(doc_).text_of(n) : std::string_view();
}

std::size_t json_value::size() const noexcept {
  const node& n = doc(doc_).at(index_);
  return is_container(n.kind) ? static_cast<std::size_t>(n.b) : 0;
}

json_value json_value::first() const noexcept {
  return json_value(doc_, index_ + (doc(doc_).at(index_).kind == json_kind::object ? 2 : 1));
}

json_value json_value::next() const noexcept {
  const impl& d = doc(doc_);
  const node& n = d.at(index_);
  std::size_t i = is_container(n.kind) ? static_cast<std::size_t>(n.a) : index_ + 1;
  if (i < d.nodes.size() && d.nodes[i].kind == key_kind) ++i;
  return json_value(doc_, i);
}

std::string_view json_value::key() const noexcept {
  if (index_ == 0) return {};
  const node& k = doc(doc_).at(index_ - 1);
  return k.kind == key_kind ? doc(doc_).text_of(k) : std::string_view();
}

// ---- encoding helpers ----

std::size_t append_string(std::string& out, std::string_view s) {
  if (const std::size_t at = invalid_utf8_at(s); at != std::string_view::npos) return at;
  out.push_back('"');
  append_escaped(out, s);
  out.push_back('"');
  return std::string_view::npos;
}

void append_uint(std::string& out, std::uint64_t v) {
  char buf[24];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

void append_int(std::string& out, std::int64_t v) {
  char buf[24];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

namespace {
template <class F>
void append_floating(std::string& out, F v) {
  if (std::isnan(v)) {
    out.append("\"NaN\"");
  } else if (std::isinf(v)) {
    out.append(v > 0 ? "\"Infinity\"" : "\"-Infinity\"");
  } else {
    char buf[40];
    const auto r = std::to_chars(buf, buf + sizeof buf, v);  // shortest text that reads back the same
    const std::string_view text(buf, static_cast<std::size_t>(r.ptr - buf));
    out.append(text);
    if (text.find_first_of(".e") == std::string_view::npos) out.append(".0");  // keep it a non-integer
  }
}
}  // namespace

void append_double(std::string& out, double v) { append_floating(out, v); }
void append_float(std::string& out, float v) { append_floating(out, v); }

void append_base64(std::string& out, const bytes& data) {
  const auto* p = reinterpret_cast<const unsigned char*>(data.data());
  const std::size_t n = data.size();
  const std::size_t start = out.size();
  out.resize(start + 2 + (n + 2) / 3 * 4);
  char* o = out.data() + start;
  *o++ = '"';
  std::size_t i = 0;
  for (; i + 3 <= n; i += 3) {
    const std::uint32_t v = (std::uint32_t{p[i]} << 16) | (std::uint32_t{p[i + 1]} << 8) | p[i + 2];
    *o++ = base64_alphabet[v >> 18];
    *o++ = base64_alphabet[(v >> 12) & 63];
    *o++ = base64_alphabet[(v >> 6) & 63];
    *o++ = base64_alphabet[v & 63];
  }
  if (n - i == 1) {
    const std::uint32_t v = std::uint32_t{p[i]} << 16;
    *o++ = base64_alphabet[v >> 18];
    *o++ = base64_alphabet[(v >> 12) & 63];
    *o++ = '=';
    *o++ = '=';
  } else if (n - i == 2) {
    const std::uint32_t v = (std::uint32_t{p[i]} << 16) | (std::uint32_t{p[i + 1]} << 8);
    *o++ = base64_alphabet[v >> 18];
    *o++ = base64_alphabet[(v >> 12) & 63];
    *o++ = base64_alphabet[(v >> 6) & 63];
    *o++ = '=';
  }
  *o = '"';
}

bool append_pid(std::string& out, const pid& p, codec_state& s) {
  if (p.is_null()) {
    out.append("null");
    return true;
  }
  const wire_context& ctx = s.context();
  const std::string_view address = p.incarnation() == ctx.local_incarnation ? ctx.local_address : p.address();
  if (const std::size_t at = invalid_utf8_at(address); at != std::string_view::npos)
    return s.fail(errc::bad_message, "invalid UTF-8 at byte " + std::to_string(at) + " of a pid's address");
  // pid::to_string(address), without its temporary: "coactor://<address>/pid/<node>.<slot>.<id>" in hex
  out.append("\"coactor://");
  append_escaped(out, address);
  char buf[16 + 1 + 8 + 1 + 16 + 1];
  char* o = std::to_chars(buf, buf + 16, p.incarnation(), 16).ptr;  // cannot fail: 64 bits are 16 hex digits
  *o++ = '.';
  o = std::to_chars(o, o + 8, p.slot(), 16).ptr;
  *o++ = '.';
  o = std::to_chars(o, o + 16, p.id(), 16).ptr;
  *o++ = '"';
  out.append("/pid/");
  out.append(buf, o);
  return true;
}

// ---- decoding helpers ----

bool type_mismatch(json_value v, std::string_view expected, codec_state& s) {
  return s.fail(errc::bad_message, "expected " + std::string(expected) + ", got " + describe(v));
}

bool read_integer(json_value v, std::int64_t min, std::uint64_t max, std::string_view type, std::uint64_t& bits,
                  codec_state& s) {
  switch (v.kind()) {
    case json_kind::unsigned_integer:
      bits = v.as_uint();
      if (bits > max) return out_of_range(decimal(bits), min, max, type, s);
      return true;
    case json_kind::negative_integer: {
      const std::int64_t value = v.as_int();
      if (value < min) return out_of_range(decimal(value), min, max, type, s);
      bits = static_cast<std::uint64_t>(value);
      return true;
    }
    case json_kind::big_integer: return out_of_range(shorten(v.as_string()), min, max, type, s);
    default: return type_mismatch(v, "an integer", s);
  }
}

bool read_integer_key(std::string_view key, std::int64_t min, std::uint64_t max, std::string_view type,
                      std::uint64_t& bits, codec_state& s) {
  const bool negative = !key.empty() && key.front() == '-';
  const std::string_view digits = key.substr(negative ? 1 : 0);
  bool canonical = !digits.empty() && (digits.front() != '0' || digits.size() == 1) && !(negative && digits == "0");
  for (char c : digits) canonical = canonical && c >= '0' && c <= '9';
  if (!canonical)
    return s.fail(errc::bad_message, "map key \"" + shorten(key) + "\" is not an integer (" + std::string(type) +
                                         ") in decimal");
  std::uint64_t magnitude = 0;
  const auto r = std::from_chars(digits.data(), digits.data() + digits.size(), magnitude);
  const bool too_big = r.ec == std::errc::result_out_of_range;
  if (!negative) {
    if (too_big || magnitude > max) return out_of_range("map key " + shorten(key), min, max, type, s);
    bits = magnitude;
  } else {
    // -magnitude >= min, computed without overflow: magnitude <= -(min) as an unsigned number
    const std::uint64_t limit = min < 0 ? std::uint64_t{0} - static_cast<std::uint64_t>(min) : 0;
    if (too_big || magnitude > limit) return out_of_range("map key " + shorten(key), min, max, type, s);
    bits = std::uint64_t{0} - magnitude;
  }
  return true;
}

bool read_double(json_value v, double& out, codec_state& s) {
  switch (v.kind()) {
    case json_kind::unsigned_integer:
    case json_kind::negative_integer:
    case json_kind::floating: out = v.as_double(); return true;
    case json_kind::big_integer:
      out = v.as_double();
      if (std::isinf(out)) return s.fail(errc::bad_message, shorten(v.as_string()) + " is out of range for f64");
      return true;
    case json_kind::string: {
      const std::string_view text = v.as_string();
      if (text == "NaN") out = std::numeric_limits<double>::quiet_NaN();
      else if (text == "Infinity") out = std::numeric_limits<double>::infinity();
      else if (text == "-Infinity") out = -std::numeric_limits<double>::infinity();
      else return s.fail(errc::bad_message, "expected a number, got string \"" + shorten(text) +
                                                "\" (the only strings allowed are \"NaN\", \"Infinity\", \"-Infinity\")");
      return true;
    }
    default: return type_mismatch(v, "a number", s);
  }
}

bool read_float(json_value v, float& out, codec_state& s) {
  double d;
  if (!read_double(v, d, s)) return false;
  // Finite doubles below FLT_MAX + half an ulp round to a finite float; from there on they overflow.
  constexpr double overflow = 0x1.ffffffp127;
  if (std::isfinite(d) && std::fabs(d) >= overflow)
    return s.fail(errc::bad_message, number_text(d) + " is out of range for f32");
  out = static_cast<float>(d);
  return true;
}

bool read_string(json_value v, std::string& out, codec_state& s) {
  if (v.kind() != json_kind::string) return type_mismatch(v, "a string", s);
  const std::string_view text = v.as_string();
  if (!s.charge(text.size())) return false;
  out.assign(text);
  return true;
}

bool read_bytes(json_value v, bytes& out, codec_state& s) {
  if (v.kind() != json_kind::string) return type_mismatch(v, "a base64 string", s);
  const std::string_view text = v.as_string();
  if (text.size() % 4 != 0)
    return bad_base64("length " + std::to_string(text.size()) + " is not a multiple of 4", s);
  std::size_t padding = 0;
  if (!text.empty() && text.back() == '=') padding = text.size() >= 2 && text[text.size() - 2] == '=' ? 2 : 1;
  const std::size_t n = text.size() / 4 * 3 - padding;
  if (!s.charge(n)) return false;
  out.resize(n);
  auto* o = reinterpret_cast<unsigned char*>(out.data());
  const std::size_t data_end = text.size() - padding;  // where the '=' start
  for (std::size_t i = 0; i < text.size(); i += 4) {
    std::uint32_t v4 = 0;
    std::size_t chars = 0;
    for (std::size_t k = 0; k < 4; ++k) {
      const std::size_t at = i + k;
      if (at >= data_end) break;
      const std::int8_t value = base64_values[static_cast<unsigned char>(text[at])];
      if (value < 0) {
        if (text[at] == '=') return bad_base64("'=' before the end, at character " + std::to_string(at), s);
        return bad_base64("character " + std::to_string(at) + " is not in the base64 alphabet", s);
      }
      v4 |= static_cast<std::uint32_t>(value) << (18 - 6 * k);
      ++chars;
    }
    if (chars == 4) {
      *o++ = static_cast<unsigned char>(v4 >> 16);
      *o++ = static_cast<unsigned char>(v4 >> 8);
      *o++ = static_cast<unsigned char>(v4);
    } else if (chars == 3) {  // "xyz=": two bytes
      if (v4 & 0xFF) return bad_base64("non-zero padding bits", s);
      *o++ = static_cast<unsigned char>(v4 >> 16);
      *o++ = static_cast<unsigned char>(v4 >> 8);
    } else {  // "xy==": one byte
      if (v4 & 0xFFFF) return bad_base64("non-zero padding bits", s);
      *o++ = static_cast<unsigned char>(v4 >> 16);
    }
  }
  return true;
}

bool read_pid(json_value v, pid& out, codec_state& s) {
  if (v.kind() == json_kind::null) {
    out = pid{};
    return true;
  }
  if (v.kind() != json_kind::string) return type_mismatch(v, "a pid (string) or null", s);
  const std::string_view text = v.as_string();
  // "coactor://" + address (at most 255 bytes, as in the binary codec) + "/pid/" + three hex numbers
  constexpr std::size_t longest = 10 + 255 + 5 + 16 + 1 + 8 + 1 + 16;
  const std::size_t marker = text.rfind("/pid/");
  if (text.size() > longest || (marker != std::string_view::npos && marker > 10 + 255))
    return s.fail(errc::bad_message, "not a pid: \"" + shorten(text) + "\" is too long (addresses are at most 255 bytes)");
  result<pid> parsed = s.context().addresses ? pid::parse(text, *s.context().addresses) : pid::parse(text);
  if (!parsed) return s.fail(parsed.error() == errc::too_large ? errc::too_large : errc::bad_message, parsed.error().detail());
  const pid p = *parsed;
  out = p.incarnation() == s.context().local_incarnation ? pid(p.incarnation(), p.id(), p.slot()) : p;
  return true;
}

bool read_process_name(json_value v, process_name& out, codec_state& s) {
  if (v.kind() != json_kind::string) return type_mismatch(v, "a process name (string)", s);
  result<process_name> parsed = process_name::parse(v.as_string());
  if (!parsed)
    return s.fail(errc::bad_message, "not a process name (coactor://<address>/name/<name>): \"" + shorten(v.as_string()) + "\"");
  out = std::move(*parsed);
  return true;
}

bool missing_field(std::string_view name, codec_state& s) {
  return s.fail(errc::bad_message, "missing field '" + std::string(name) + "'");
}

bool duplicate_field(std::string_view name, codec_state& s) {
  return s.fail(errc::bad_message, "field '" + std::string(name) + "' given twice");
}

bool unknown_alternative(std::string_view key, const std::string_view* alternatives, std::size_t count,
                         codec_state& s) {
  std::string what = "unknown variant alternative \"" + shorten(key) + "\" (expected one of: ";
  for (std::size_t i = 0; i < count; ++i) {
    if (i) what += ", ";
    what += alternatives[i];
  }
  what += ")";
  return s.fail(errc::unknown_type, std::move(what));
}

void at_key(std::string_view key, codec_state& s) { s.at_key(shorten(key)); }

}  // namespace detail

result<std::string> reformat(std::string_view in, int indent, const decode_limits& limits) {
  detail::json_document document;
  if (auto r = document.parse(in, limits, {}); !r) return r.error();
  std::string out;
  out.reserve(in.size());
  detail::print(out, document.root(), indent, 0);
  return out;
}

}  // namespace coactor::json
