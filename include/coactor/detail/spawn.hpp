// coactor detail: spawn, how node::spawn and context::spawn start a process: the body and its
// arguments move into a control block, the body's coroutine is created suspended and adopted by it,
// and the node schedules its first step. Included at the end of context.hpp (it needs `context`).
#pragma once

#include <coactor/context.hpp>
#include <coactor/detail/node_core.hpp>
#include <coactor/detail/process_base.hpp>
#include <coactor/pid.hpp>
#include <coactor/process.hpp>

#include <coroutine>
#include <functional>
#include <type_traits>
#include <utility>

namespace coactor::detail {

/// Starts the process; with `link`, linked to that (local, live) process before it can run.
template <class F, class... A>
pid spawn_with(node_core& n, const pid* link, F&& body, A&&... args) {
  static_assert(std::is_invocable_r_v<process, std::decay_t<F>&, context, A&&...>,
                "a process body is callable as body(coactor::context, args...) and returns coactor::process");
  auto* p = new process_impl<std::decay_t<F>>(n, std::forward<F>(body));
  std::coroutine_handle<> root;
  try {
    root = std::invoke(p->body, context{*p}, std::forward<A>(args)...).adopt(*p);
  } catch (...) {
    delete p;
    throw;
  }
  return n.start(*p, root, link);
}

template <class F, class... A>
pid spawn(node_core& n, F&& body, A&&... args) {
  return spawn_with(n, nullptr, std::forward<F>(body), std::forward<A>(args)...);
}

}  // namespace coactor::detail
