// The failure side of detail::codec_state: cold, so out of line.
#include <coactor/detail/codec_state.hpp>

namespace coactor::detail {

codec_state::failure& codec_state::failed() {
  if (!failure_) failure_ = std::make_unique<failure>();
  return *failure_;
}

bool codec_state::fail(errc code, std::string what) {
  failure& f = failed();
  f.code = code;
  f.what = std::move(what);
  return false;
}

void codec_state::prepend(std::string_view a, std::string_view b, std::string_view c) {
  std::string& path = failed().path;
  std::string step;
  step.reserve(a.size() + b.size() + c.size() + path.size());
  step.append(a).append(b).append(c).append(path);
  path = std::move(step);
}

void codec_state::at_field(std::string_view name) { prepend(".", name, ""); }
void codec_state::at_index(std::size_t i) { prepend("[", std::to_string(i), "]"); }
void codec_state::at_key(std::string_view key) { prepend("[\"", key, "\"]"); }

bool codec_state::too_deep() {
  return fail(errc::too_large, "nested deeper than " + std::to_string(limits_.max_depth) + " levels");
}

bool codec_state::over_budget() {
  return fail(errc::too_large, "decoded content exceeds " + std::to_string(limits_.max_allocation) + " bytes");
}

error codec_state::to_error(std::string_view type) const {
  std::string text(type);
  if (failure_) text.append(failure_->path);
  text.append(": ");
  if (failure_) text.append(failure_->what);
  return error(failure_ ? failure_->code : errc::bad_message, std::move(text));
}

}  // namespace coactor::detail
