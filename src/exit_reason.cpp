#include <coactor/exit_reason.hpp>

namespace coactor {

std::string_view to_string(exit_kind kind) noexcept {
  switch (kind) {
    case exit_kind::normal: return "normal";
    case exit_kind::exception: return "exception";
    case exit_kind::killed: return "killed";
    case exit_kind::noproc: return "noproc";
    case exit_kind::noconnection: return "noconnection";
    case exit_kind::other: return "other";
  }
  return "unknown";
}

std::string exit_reason::to_string() const {
  std::string text(coactor::to_string(kind));
  if (!detail.empty()) text.append(": ").append(detail);
  return text;
}

}  // namespace coactor
