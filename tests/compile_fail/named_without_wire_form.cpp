// Must not compile: a message type that chose a wire name (so it is meant for other nodes) with a field
// that has no wire form. The compiler's message names the type, the field's index and its type
// (tests/CMakeLists.txt checks it).
#include <coactor/coactor.hpp>

#include <string>
#include <string_view>

namespace app {
struct order {
  static constexpr std::string_view coactor_name = "app.order";
  std::string item;
  int* quantity;  // a raw pointer has no wire form
};
}  // namespace app

int main() {
  coactor::node n({.threads = 1});
  n.send(coactor::pid{}, app::order{"tea", nullptr});
}
