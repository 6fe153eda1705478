// The receive machinery of context.hpp: scanning a mailbox, timeouts, sleep and yield.
#include <coactor/context.hpp>
#include <coactor/detail/node_core.hpp>
#include <coactor/detail/process_base.hpp>

#include <chrono>

namespace coactor::detail {

receive_wait::~receive_wait() {
  if (epoch_) proc_->node.scheduler().disarm(*timer_);  // the process ended while waiting
  destroy(found_);
}

bool receive_wait::poll() {
  mailbox& box = proc_->box;
  for (;;) {
    envelope* e = cursor_ ? cursor_->next : box.front();
    while (e) {
      switch (e->kind) {
        case envelope_kind::timeout: {
          box.unlink(cursor_, e);
          const bool mine = epoch_ && e->tag == epoch_;
          destroy(e);
          if (mine) {
            timed_out_ = true;
            return true;
          }
          break;  // a tick of an earlier receive
        }
        case envelope_kind::wake:
          box.unlink(cursor_, e);
          destroy(e);
          if (proc_->pending_exit.load(std::memory_order_acquire)) {
            exiting_ = true;
            return true;
          }
          break;
        case envelope_kind::room:
          box.unlink(cursor_, e);
          destroy(e);
          if (wants_room_) {
            room_granted_ = true;
            return true;
          }
          break;
        case envelope_kind::reply:
        case envelope_kind::failure:
          box.unlink(cursor_, e);
          if (const std::uint64_t awaited = proc_->awaited_tag.load(std::memory_order_relaxed); awaited && e->tag == awaited) {
            found_ = e;
            return true;
          }
          proc_->node.count_stale_reply();  // its request timed out: nobody waits for it any more
          destroy(e);
          break;
        default: {
          bool accepted;
          try {
            accepted = match_(*this, *e);
          } catch (...) {
            failure_ = std::current_exception();
            return true;
          }
          if (accepted) {
            box.unlink(cursor_, e);
            found_ = e;
            if (e->counted) proc_->node.took_message(*proc_);
            return true;
          }
          cursor_ = e;
        }
      }
      e = cursor_ ? cursor_->next : box.front();
    }
    if (!box.fetch(proc_->node.concurrent())) return false;
  }
}

bool receive_wait::poll_or_block() {
  return poll() || block_or_poll();
}

bool receive_wait::block_or_poll() {
  const bool concurrent = proc_->node.concurrent();
  for (;;) {
    if (proc_->box.try_block(concurrent)) return false;
    if (poll()) return true;
  }
}

void receive_wait::arm_timeout(duration d, timer& t) {
  scheduler& s = proc_->node.scheduler();
  t.deadline = s.now() + d;
  t.fire = &on_timer;
  t.context = this;
  timer_ = &t;
  epoch_ = ++proc_->last_epoch;
  s.arm(t);
}

void receive_wait::finish() noexcept {
  if (epoch_) proc_->node.scheduler().disarm(*timer_);
  epoch_ = 0;
}

// Runs under the scheduler's timer lock. The process is suspended in this receive, or running but
// blocked in finish() -> disarm() on that same lock, so it is alive here.
void receive_wait::on_timer(timer& t) noexcept {
  auto& w = *static_cast<receive_wait*>(t.context);
  process_base& p = *w.proc_;
  if (p.box.push(make_bare_envelope(envelope_kind::timeout, w.epoch_), p.node.concurrent()) ==
      mailbox::push_result::woke_owner)
    p.node.scheduler().schedule(p);
}

std::string describe_timeout(duration d) {
  using namespace std::chrono;
  auto count = d.count();
  if (count % 1'000'000'000 == 0) return "within " + std::to_string(count / 1'000'000'000) + "s";
  if (count % 1'000'000 == 0) return "within " + std::to_string(count / 1'000'000) + "ms";
  if (count % 1'000 == 0) return "within " + std::to_string(count / 1'000) + "us";
  return "within " + std::to_string(count) + "ns";
}

bool sleep_awaiter::await_suspend(std::coroutine_handle<> h) {
  arm_timeout(d_, timer_);
  return suspend_in(*this, h);
}

void process_base::end_now() noexcept { node.exit(*this, nullptr); }

void yield_awaiter::await_suspend(std::coroutine_handle<> h) noexcept {
  p_->resume_point = h;
  p_->node.scheduler().schedule(*p_);
}

}  // namespace coactor::detail
