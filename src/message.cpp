#include <coactor/message.hpp>

namespace coactor {

void message::throw_bad_type(std::string_view wanted) const {
  std::string text = "coactor::message::as<";
  text += wanted;
  text += ">() on a message of type ";
  text += env_ ? type_name() : std::string_view("<empty>");
  throw bad_access(text);
}

}  // namespace coactor
