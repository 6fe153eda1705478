// What needs Asio in the core: io_context() for processes (asio.hpp), and node::stop_on_signals.
#include <coactor/asio.hpp>
#include <coactor/node.hpp>

#include <asio/signal_set.hpp>

#include <csignal>
#include <memory>

namespace coactor {
asio::io_context& io_context(const context& self) {
  asio::io_context* io = self.control_block().node.scheduler().io_context();
  if (!io) throw bad_access("coactor::io_context(): this process's scheduler has no io_context (the simulator's has none)");
  return *io;
}

result<void> node::stop_on_signals() {
  asio::io_context* io = sched_->io_context();
  if (!io) return error(errc::not_local, "stop_on_signals: this node's scheduler has no io_context (the simulator's has none)");
  // asio::signal_set catches the signals through its own handler (sigaction) and completes the wait
  // on a worker of the pool, so no thread needs the signals blocked or must wait for them.
  auto signals = std::make_shared<asio::signal_set>(*io, SIGINT, SIGTERM);
  signals->async_wait([this, watch = std::weak_ptr<asio::signal_set>(signals)](const std::error_code& ec, int) {
    if (ec) return;  // cancelled: the node is going away (do not touch it)
    if (auto s = watch.lock()) {
      std::error_code ignored;
      s->clear(ignored);  // the default action again: a second Ctrl-C ends a program stuck in shutdown
    }
    stop();
  });
  signals_ = std::move(signals);
  return {};
}

}  // namespace coactor
