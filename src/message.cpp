#include <coactor/codec/json.hpp>
#include <coactor/message.hpp>

#include <mutex>
#include <shared_mutex>
#include <string>
#include <unordered_map>

namespace coactor {

std::string_view message::type_name() const noexcept {
  if (!env_ || !env_->type) return {};
  if (env_->type == &detail::opaque_type) return static_cast<const detail::opaque_payload*>(env_->payload())->type_name;
  return env_->type->name;
}

result<std::string> message::to_json(int indent) const {
  if (!env_ || !env_->type) return error(errc::bad_message, "empty message");
  const detail::message_type& t = *env_->type;
  if (&t == &detail::opaque_type) {
    const auto& o = *static_cast<const detail::opaque_payload*>(env_->payload());
    if (o.format != codec::json)
      return error(errc::unknown_type, "'" + o.type_name + "' came in the binary codec and is unknown here");
    return json::reformat(o.bytes, indent);
  }
  if (!t.encode) return error(errc::not_serializable, std::string(t.name));
  std::string text;
  if (auto r = t.encode(env_->payload(), codec::json, text, {}); !r) return r.error();
  if (indent >= 0) return json::reformat(text, indent);
  return text;
}

void message::throw_bad_type(std::string_view wanted) const {
  std::string text = "coactor::message::as<";
  text += wanted;
  text += ">() on a message of type ";
  text += env_ ? type_name() : std::string_view("<empty>");
  throw bad_access(text);
}

std::string_view to_string(codec c) noexcept {
  switch (c) {
    case codec::binary: return "binary";
    case codec::json: return "json";
  }
  return "unknown codec";
}

namespace detail {

const message_type ambiguous_type{"<ambiguous>", 0, 1, nullptr, nullptr, nullptr};
const message_type opaque_type{"<opaque>", sizeof(opaque_payload), alignof(opaque_payload),
                               &destroy_value<opaque_payload>, nullptr, nullptr};

namespace {

struct type_registry {
  std::shared_mutex mutex;
  std::unordered_map<std::string_view, const message_type*> by_name;
};

type_registry& registry() {
  static type_registry* r = new type_registry;  // never destroyed: used during static initialisation
  return *r;
}

}  // namespace

void register_type(const message_type& t) noexcept {
  type_registry& r = registry();
  std::unique_lock lock(r.mutex);
  try {
    auto [it, inserted] = r.by_name.emplace(t.name, &t);
    // The same type registered from two translation units (or shared libraries) is not a conflict.
    if (!inserted && it->second != &t && it->second != &ambiguous_type &&
        (it->second->size != t.size || it->second->decode != t.decode))
      it->second = &ambiguous_type;
  } catch (...) {
    // Out of memory at start-up: the type simply stays unknown to incoming frames.
  }
}

const message_type* find_type(std::string_view name) noexcept {
  // Each incoming frame names its type: a small per-thread cache of names found answers the frequent
  // ones without the lock (types are registered at start-up and never removed).
  struct cached {
    std::string name;
    const message_type* type = nullptr;
  };
  static thread_local cached cache[32];
  static thread_local const cached* last = nullptr;  // a stream of frames often repeats one type
  if (last && last->type && last->name == name) return last->type;
  cached& slot = cache[std::hash<std::string_view>{}(name) % 32];
  if (slot.type && slot.name == name) {
    last = &slot;
    return slot.type;
  }
  type_registry& r = registry();
  const message_type* found;
  {
    std::shared_lock lock(r.mutex);
    auto it = r.by_name.find(name);
    found = it == r.by_name.end() ? nullptr : it->second;
  }
  if (found && found != &ambiguous_type) {
    try {
      slot.name.assign(name);
      slot.type = found;
      last = &slot;
    } catch (...) {
      slot.type = nullptr;
    }
  }
  return found;
}

}  // namespace detail
}  // namespace coactor
