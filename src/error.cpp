#include <coactor/error.hpp>

namespace coactor {
namespace {

class category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "coactor"; }
  std::string message(int code) const override {
    switch (static_cast<errc>(code)) {
      case errc::timeout: return "timeout";
      case errc::dead_process: return "dead process";
      case errc::no_such_name: return "no such name";
      case errc::name_taken: return "name taken";
      case errc::already_registered: return "process already registered";
      case errc::request_to_self: return "request to self";
      case errc::not_local: return "not a process of this node";
      case errc::unreachable: return "node unreachable";
      case errc::bad_message: return "bad message";
      case errc::unknown_type: return "unknown message type";
      case errc::too_large: return "too large";
      case errc::protocol: return "protocol error";
      case errc::io: return "I/O error";
      case errc::queue_full: return "queue full";
      case errc::stopped: return "stopped";
      case errc::exception: return "process ended with an exception";
      case errc::unread_messages: return "process ended with unread messages";
      case errc::not_serializable: return "message type has no wire form";
      case errc::rejected: return "request rejected";
      case errc::node_down: return "node down";
    }
    return "unknown coactor error " + std::to_string(code);
  }
};

}  // namespace

const std::error_category& error_category() noexcept {
  static const category instance;
  return instance;
}

std::string error::message() const {
  std::string text = code_.message();
  if (!detail_.empty()) {
    text += ": ";
    text += detail_;
  }
  return text;
}

}  // namespace coactor
