// coactor: Asio inside processes.
//
// `use_process` is an Asio completion token: an Asio asynchronous operation given it returns something
// a process can co_await. The process suspends until the operation completes, without blocking its
// thread; the result comes back in the library's one style:
//   void(error_code)     -> result<void>
//   void(error_code, T)  -> result<T>
//   void()               -> void
//   anything else        -> std::tuple of the arguments
//
//     asio::steady_timer t(coactor::io_context(self), 50ms);
//     result<void> r = co_await t.async_wait(coactor::use_process);
//
// Make I/O objects on `io_context(self)` (the thread_pool's own context) so that their completions run
// on the pool's workers. Asio timers run on the real clock; for timeouts that must also work under
// simulation use context::sleep and receive/request timeouts instead.
//
// This header includes Asio, which is slow to compile: include it only where Asio is used.
#pragma once

#include <coactor/context.hpp>
#include <coactor/detail/process_base.hpp>
#include <coactor/result.hpp>
#include <coactor/thread_pool.hpp>

#include <asio/async_result.hpp>
#include <asio/io_context.hpp>

#include <coroutine>
#include <memory>
#include <optional>
#include <system_error>
#include <tuple>
#include <type_traits>
#include <utility>

namespace coactor {

struct use_process_t {};
inline constexpr use_process_t use_process{};

/// The io_context of the thread_pool that runs this process. Throws bad_access when the process runs
/// on another kind of scheduler (the simulator).
asio::io_context& io_context(const context& self);

namespace detail {

template <class... Args>
struct asio_result {
  using type = std::tuple<std::decay_t<Args>...>;
};
template <>
struct asio_result<> {
  using type = void;
};
template <>
struct asio_result<std::error_code> {
  using type = result<void>;
};
template <class T>
struct asio_result<std::error_code, T> {
  using type = result<std::decay_t<T>>;
};

/// Awaits one Asio operation from a process: initiates it on suspension, and has its completion handler
/// store the arguments and schedule the process.
template <class Initiation, class InitArgs, class... Args>
class asio_awaiter {
 public:
  asio_awaiter(Initiation init, InitArgs args) : init_(std::move(init)), args_(std::move(args)) {}

  bool await_ready() const noexcept { return false; }

  template <class Promise>
  void await_suspend(std::coroutine_handle<Promise> h) {
    process_base& p = *h.promise().owner;
    p.resume_point = h;
    process_ = &p;
    // The handler may run on another worker before this function returns: touch nothing after this.
    std::apply([&](auto&&... a) { std::move(init_)(handler{this, p.node.lifetime()}, std::move(a)...); },
               std::move(args_));
  }

  typename asio_result<Args...>::type await_resume() {
    auto& values = *values_;
    if constexpr (sizeof...(Args) == 0) {
      return;
    } else if constexpr (std::is_same_v<typename asio_result<Args...>::type, result<void>>) {
      const std::error_code& ec = std::get<0>(values);
      if (ec) return error(ec, ec.message());
      return {};
    } else if constexpr (sizeof...(Args) == 2 &&
                         std::is_same_v<std::decay_t<std::tuple_element_t<0, std::tuple<Args...>>>, std::error_code>) {
      const std::error_code& ec = std::get<0>(values);
      if (ec) return error(ec, ec.message());
      return std::move(std::get<1>(values));
    } else {
      return std::move(values);
    }
  }

 private:
  struct handler {
    asio_awaiter* self;
    /// The awaiting process lives as long as its node (it cannot end while it awaits). A node destroyed
    /// on a shared pool leaves the completion behind (a cancelled wait, say); it must then do nothing.
    /// It runs on the pool's threads, and a node is not destroyed while its scheduler runs.
    std::weak_ptr<const bool> alive;
    template <class... A>
    void operator()(A&&... a) {
      if (alive.expired()) return;
      self->values_.emplace(std::forward<A>(a)...);
      process_base& p = *self->process_;
      p.node.scheduler().schedule(p);
    }
  };

  Initiation init_;
  InitArgs args_;
  process_base* process_ = nullptr;
  std::optional<std::tuple<std::decay_t<Args>...>> values_;
};

}  // namespace detail
}  // namespace coactor

template <class... Args>
class asio::async_result<coactor::use_process_t, void(Args...)> {
 public:
  template <class Initiation, class... InitArgs>
  static auto initiate(Initiation&& init, coactor::use_process_t, InitArgs&&... args) {
    using tuple = std::tuple<std::decay_t<InitArgs>...>;
    return coactor::detail::asio_awaiter<std::decay_t<Initiation>, tuple, Args...>(
        std::forward<Initiation>(init), tuple(std::forward<InitArgs>(args)...));
  }
};
