#include <coactor/detail/registry.hpp>

namespace coactor::detail {

result<pid> registry::whereis(std::string_view name) const {
  std::lock_guard lock(mutex_);
  auto it = by_name_.find(name);
  if (it == by_name_.end()) return no_such_name(name);
  return it->second;
}

void registry::process_ended(std::uint64_t id) noexcept {
  std::lock_guard lock(mutex_);
  if (auto it = by_id_.find(id); it != by_id_.end()) {
    by_name_.erase(it->second);
    by_id_.erase(it);
  }
}

error registry::name_taken(const std::string& name, const pid& holder) {
  return error(errc::name_taken, "'" + name + "' is " + holder.to_string());
}

error registry::claim_failed(errc why, const std::string& name, const pid& p) {
  if (why == errc::already_registered) return error(why, p.to_string() + " cannot also be '" + name + "'");
  return error(why, p.to_string());
}

error registry::no_such_name(std::string_view name) { return error(errc::no_such_name, std::string(name)); }

}  // namespace coactor::detail
