#include <coactor/asio.hpp>
#include <coactor/node.hpp>

namespace coactor {

asio::io_context& io_context(const context& self) {
  auto* pool = dynamic_cast<thread_pool*>(&self.control_block().node.scheduler());
  if (!pool) throw bad_access("coactor::io_context(): this process does not run on a thread_pool");
  return pool->io_context();
}

}  // namespace coactor
