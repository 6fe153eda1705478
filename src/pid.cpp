#include <coactor/pid.hpp>

#include <cstdio>

namespace coactor {

std::string pid::to_string() const {
  if (is_null()) return "<null pid>";
  char text[64];
  std::snprintf(text, sizeof text, "<%016llx.%x.%016llx>", static_cast<unsigned long long>(node_), slot_,
                static_cast<unsigned long long>(id_));
  return text;
}

}  // namespace coactor
