// coactor: process, the return type of a process body.
//
// A process body is a coroutine that takes a `context` first and returns `coactor::process`:
//
//     coactor::process logger(coactor::context self) {
//       for (;;) std::cout << *co_await self.receive<std::string>() << '\n';
//     }
//
// `node::spawn(logger)` creates the process and schedules it; its body runs on the node's scheduler until
// it returns. A body that returns or throws ends the process: it is removed from the node, its registered
// name is freed, requests still queued in its mailbox are answered with `errc::dead_process`, and an
// exception is reported to the node's error hook together with the pid.
//
// Inside a body, `co_await` the operations of `context` (receive, request, sleep, yield_now), `task`s
// (task.hpp) and Asio operations through `use_process` (asio.hpp).
#pragma once

#include <coactor/detail/process_base.hpp>

#include <coroutine>
#include <exception>
#include <utility>

namespace coactor {

namespace detail {
/// Ends a process whose body finished (with `failure` if it threw): tears it down and frees it.
void process_exit(process_base& p, std::exception_ptr failure) noexcept;
}  // namespace detail

class process {
 public:
  struct promise_type {
    detail::process_base* owner = nullptr;
    std::exception_ptr failure;

    process get_return_object() noexcept { return process{std::coroutine_handle<promise_type>::from_promise(*this)}; }
    std::suspend_always initial_suspend() noexcept { return {}; }

    struct final_awaiter {
      bool await_ready() noexcept { return false; }
      void await_suspend(std::coroutine_handle<promise_type> h) noexcept {
        promise_type& pr = h.promise();
        detail::process_exit(*pr.owner, std::move(pr.failure));  // destroys h and the process
      }
      void await_resume() noexcept {}
    };
    final_awaiter final_suspend() noexcept { return {}; }
    void return_void() noexcept {}
    void unhandled_exception() noexcept { failure = std::current_exception(); }
  };

  process(process&& other) noexcept : h_(std::exchange(other.h_, {})) {}
  process& operator=(process&&) = delete;
  ~process() {
    if (h_) h_.destroy();
  }

  /// For the runtime: binds the coroutine to its control block and gives up ownership of it.
  std::coroutine_handle<> adopt(detail::process_base& owner) noexcept {
    h_.promise().owner = &owner;
    return std::exchange(h_, {});
  }

 private:
  explicit process(std::coroutine_handle<promise_type> h) noexcept : h_(h) {}
  std::coroutine_handle<promise_type> h_;
};

}  // namespace coactor
