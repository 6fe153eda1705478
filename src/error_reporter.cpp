#include <coactor/detail/error_reporter.hpp>

#include <cstdio>

namespace coactor::detail {
namespace {

void print_report(const std::string& node_name, const error& e, const pid& who) {
  std::string line = "coactor[" + node_name + "] " + e.message();
  if (!who.is_null()) line += " (" + who.to_string() + ")";
  line += '\n';
  std::fputs(line.c_str(), stderr);
}

}  // namespace

error_reporter::error_reporter(std::string node_name)
    : hook_(std::make_shared<const hook>(
          [node_name = std::move(node_name)](const error& e, const pid& who) { print_report(node_name, e, who); })) {}

void error_reporter::report(const error& e, const pid& who) noexcept {
  std::shared_ptr<const hook> current;
  {
    std::lock_guard lock(mutex_);
    current = hook_;
  }
  if (current && *current) {
    try {
      (*current)(e, who);
    } catch (...) {
      // A throwing hook must not take the node down.
    }
  }
}

void error_reporter::set_hook(hook h) {
  auto next = std::make_shared<const hook>(std::move(h));
  std::lock_guard lock(mutex_);
  hook_ = std::move(next);
}

}  // namespace coactor::detail
