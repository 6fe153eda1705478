// thread_pool: workers that run processes, timers and an asio::io_context.
//
// Each worker has a `next` slot (the process most recently woken from this worker, run next), and with a
// single worker a private FIFO; everything else goes through the shared queue. A process that schedules
// itself (yield_now) goes behind everything runnable instead: to the shared queue, or with a single
// worker to the back of its FIFO after what waits in the shared queue; the worker then runs due timers
// and ready I/O handlers before its next process (otherwise only every 64 steps). An idle worker blocks
// inside io_context::run_one_until(next timer deadline); work arriving for idle workers is signalled by
// posting an empty handler to the io_context.
//
// A single-threaded pool's worker holds `run_mutex` while it runs, I/O handlers included (they may route
// messages, like node::send from outside does); it lets go of it only between two steps, when another
// thread is waiting in admit(). admit() wakes an idle worker for that.
#include <coactor/detail/process_base.hpp>
#include <coactor/detail/spinlock.hpp>
#include <coactor/detail/timer_queue.hpp>
#include <coactor/thread_pool.hpp>

#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/post.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <limits>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

namespace coactor {
namespace {

using detail::process_base;

/// Intrusive FIFO of processes, linked through process_base::next_ready.
class run_queue {
 public:
  void push(process_base* p) noexcept {
    p->next_ready = nullptr;
    if (tail_)
      tail_->next_ready = p;
    else
      head_ = p;
    tail_ = p;
  }
  process_base* pop() noexcept {
    process_base* p = head_;
    if (p) {
      head_ = p->next_ready;
      if (!head_) tail_ = nullptr;
      p->next_ready = nullptr;
    }
    return p;
  }
  bool empty() const noexcept { return head_ == nullptr; }

 private:
  process_base* head_ = nullptr;
  process_base* tail_ = nullptr;
};

struct worker {
  process_base* next = nullptr;
  process_base* running = nullptr;  // the process this worker is stepping now
  bool yielded = false;             // `running` yielded: let timers and I/O in before the next step
  run_queue local;  // single-threaded pools only
};

constexpr std::int64_t no_deadline = std::numeric_limits<std::int64_t>::max();

}  // namespace

struct thread_pool::impl {
  explicit impl(unsigned n) : threads(n), io(static_cast<int>(n)), workers(n) {}

  const unsigned threads;
  asio::io_context io;
  std::vector<worker> workers;

  std::mutex shared_mutex;
  run_queue shared;
  std::atomic<std::size_t> shared_size{0};

  std::atomic<int> idle{0};
  std::atomic<bool> stopping{false};
  std::atomic<std::int64_t> work{0};

  std::mutex run_mutex;                // single-threaded pools: held by the worker while it runs
  std::atomic<int> admissions{0};      // threads waiting for or holding run_mutex from outside

  detail::spinlock timer_lock;         // multi-threaded pools only
  detail::timer_queue timers;
  std::atomic<std::int64_t> next_deadline{no_deadline};  // nanoseconds since the clock's epoch
  std::atomic<std::int64_t> sleeping_until{no_deadline}; // the deadline an idle worker sleeps until

  static inline thread_local impl* current_pool = nullptr;
  static inline thread_local worker* current_worker = nullptr;

  static time_point clock_now() noexcept {
    return std::chrono::time_point_cast<duration>(std::chrono::steady_clock::now());
  }

  void push_shared(process_base* p) noexcept {
    {
      std::lock_guard lock(shared_mutex);
      shared.push(p);
      shared_size.fetch_add(1, std::memory_order_seq_cst);
    }
    wake();
  }

  process_base* pop_shared() noexcept {
    if (shared_size.load(std::memory_order_relaxed) == 0) return nullptr;
    std::lock_guard lock(shared_mutex);
    process_base* p = shared.pop();
    if (p) shared_size.fetch_sub(1, std::memory_order_relaxed);
    return p;
  }

  // An idle worker first announces itself in `idle`, then re-checks for work before it blocks; a
  // producer first publishes work, then reads `idle`. With both sequentially consistent, either the
  // worker sees the work or the producer sees the worker and posts a wake-up.
  void wake() noexcept {
    if (idle.load(std::memory_order_seq_cst) > 0) {
      try {
        asio::post(io, [] {});
      } catch (...) {
      }
    }
  }

  void schedule(process_base* p) noexcept {
    if (current_pool == this) {
      worker& w = *current_worker;
      if (p == w.running) {  // it schedules itself: it yields, so it goes behind all runnable work
        w.yielded = true;     // and behind ready I/O and due timers (a sender lets its writes go out)
        if (threads == 1) {
          while (process_base* q = pop_shared()) w.local.push(q);
          w.local.push(p);
        } else {
          push_shared(p);
        }
        return;
      }
      if (threads == 1) {
        w.local.push(p);
        return;
      }
      if (w.next) push_shared(w.next);
      w.next = p;
      return;
    }
    push_shared(p);
  }

  /// Fires due timers; true if any fired.
  bool fire_timers() noexcept {
    if (next_deadline.load(std::memory_order_acquire) > clock_now().time_since_epoch().count()) return false;
    bool fired = false;
    timer_guard lock(*this);
    const time_point now = clock_now();
    while (detail::timer* t = timers.pop_due(now)) {
      t->fire(*t);
      fired = true;
    }
    update_deadline();
    return fired;
  }

  // Timers of a single-threaded pool are only touched by its worker (or a thread it admitted).
  struct timer_guard {
    impl& m;
    explicit timer_guard(impl& x) noexcept : m(x) {
      if (m.threads > 1) m.timer_lock.lock();
    }
    ~timer_guard() {
      if (m.threads > 1) m.timer_lock.unlock();
    }
  };

  void update_deadline() noexcept {  // timer_lock held
    auto next = timers.next_deadline();
    next_deadline.store(next ? next->time_since_epoch().count() : no_deadline, std::memory_order_release);
  }

  process_base* next_process(worker& w, unsigned tick) noexcept {
    process_base* p = nullptr;
    if (tick % 61 == 0) p = pop_shared();  // fairness: the shared queue is not starved by `next`
    if (!p) p = std::exchange(w.next, nullptr);
    if (!p) p = w.local.pop();
    if (!p) p = pop_shared();
    return p;
  }

  // Single-threaded pools: lets threads waiting in admit() in, then takes the worker's place back.
  void let_admissions_in() {
    run_mutex.unlock();
    while (admissions.load(std::memory_order_acquire) > 0) std::this_thread::yield();
    run_mutex.lock();
  }

  // Single-threaded pools keep run_mutex while idle: the handler that ends the wait runs under it. A
  // thread entering admit() is, like new work, either seen here or told by a wake-up (see wake()).
  void idle_wait() {
    idle.fetch_add(1, std::memory_order_seq_cst);
    if (shared_size.load(std::memory_order_seq_cst) == 0 && !stopping.load(std::memory_order_seq_cst) &&
        admissions.load(std::memory_order_seq_cst) == 0) {
      std::int64_t deadline = next_deadline.load(std::memory_order_acquire);
      sleeping_until.store(deadline, std::memory_order_seq_cst);
      if (deadline == no_deadline)
        io.run_one();
      else
        io.run_one_until(time_point(duration(deadline)));
      sleeping_until.store(no_deadline, std::memory_order_relaxed);
    }
    idle.fetch_sub(1, std::memory_order_seq_cst);
  }

  void loop(worker& w) {
    current_pool = this;
    current_worker = &w;
    unsigned tick = 0;
    std::unique_lock<std::mutex> running;
    if (threads == 1) running = std::unique_lock(run_mutex);
    while (!stopping.load(std::memory_order_relaxed)) {
      ++tick;
      if (threads == 1 && admissions.load(std::memory_order_relaxed) > 0) let_admissions_in();
      if (tick % 64 == 0 || std::exchange(w.yielded, false)) {  // while busy: timers and I/O now and then
        fire_timers();
        poll_io();
      }
      if (process_base* p = next_process(w, tick)) {
        w.running = p;
        p->step();  // p may be running on another worker (or be gone) when this returns
        w.running = nullptr;
        continue;
      }
      if (fire_timers()) continue;
      if (work.load(std::memory_order_acquire) <= 0) {
        if (poll_io() > 0) continue;  // what is posted may start new work
        stop();
        break;
      }
      // Ready I/O handlers run here too: the wait returns at once after running one. (Polling first would
      // cost an epoll_wait with nothing to find on every return to idle, most of a round trip's syscalls.)
      idle_wait();
    }
    current_pool = nullptr;
    current_worker = nullptr;
  }

  /// Runs at most `limit` ready I/O handlers; the number run. (io.poll() would run them until the queue
  /// is empty, so threads that keep posting, such as node::send to a single-threaded node, would hold the
  /// worker there and starve its processes.)
  std::size_t poll_io(std::size_t limit = 64) {
    std::size_t n = 0;
    while (n < limit && io.poll_one() > 0) ++n;
    return n;
  }

  void stop() noexcept {
    stopping.store(true, std::memory_order_seq_cst);
    io.stop();
  }
};

thread_pool::thread_pool(unsigned threads)
    : impl_(std::make_unique<impl>(threads ? threads : std::max(1u, std::thread::hardware_concurrency()))) {}

thread_pool::~thread_pool() = default;

unsigned thread_pool::threads() const noexcept { return impl_->threads; }

void thread_pool::schedule(detail::process_base& p) noexcept { impl_->schedule(&p); }

time_point thread_pool::now() const noexcept { return impl::clock_now(); }

void thread_pool::arm(detail::timer& t) {
  bool earliest;
  {
    impl::timer_guard lock(*impl_);
    impl_->timers.push(t);
    earliest = impl_->timers.top() == &t;
    if (earliest) impl_->update_deadline();
  }
  // An idle worker sleeping past the new deadline must wake to honour it: the worker that armed the
  // timer may be busy in a long step. (A single-threaded pool's worker is the one arming it.)
  if (earliest && (impl_->threads > 1 || impl::current_pool != impl_.get()) &&
      t.deadline.time_since_epoch().count() < impl_->sleeping_until.load(std::memory_order_seq_cst))
    impl_->wake();
}

bool thread_pool::disarm(detail::timer& t) noexcept {
  impl::timer_guard lock(*impl_);
  bool removed = impl_->timers.erase(t);
  if (removed) impl_->update_deadline();
  return removed;
}

void thread_pool::work_started() noexcept { impl_->work.fetch_add(1, std::memory_order_acq_rel); }

void thread_pool::work_finished() noexcept {
  if (impl_->work.fetch_sub(1, std::memory_order_acq_rel) == 1) impl_->wake();  // let a sleeper notice
}

void thread_pool::run() {
  impl& m = *impl_;
  // Even with no work the loop runs once: what was posted meanwhile (deliveries from other threads) is
  // run before it returns, so that such a message reaches its process or is counted as a dead letter.
  m.stopping.store(false);
  m.io.restart();
  auto guard = asio::make_work_guard(m.io);
  std::vector<std::thread> others;
  others.reserve(m.threads - 1);
  for (unsigned i = 1; i < m.threads; ++i) others.emplace_back([&m, i] { m.loop(m.workers[i]); });
  m.loop(m.workers[0]);
  m.stop();
  for (std::thread& t : others) t.join();
  // Work that was made runnable on a worker's private slot survives in the shared queue for a later run().
  for (worker& w : m.workers) {
    if (w.next) m.push_shared(std::exchange(w.next, nullptr));
    while (process_base* p = w.local.pop()) m.push_shared(p);
  }
}

void thread_pool::stop() noexcept { impl_->stop(); }

void thread_pool::post(std::function<void()> fn) { asio::post(impl_->io, std::move(fn)); }

void thread_pool::forget_if(const std::function<bool(const detail::process_base&)>& doomed) noexcept {
  impl& m = *impl_;
  // Keeps the processes of other nodes, in order; returns how many were dropped.
  auto filter = [&](run_queue& q) {
    run_queue kept;
    std::size_t dropped = 0;
    while (process_base* p = q.pop()) {
      if (doomed(*p))
        ++dropped;
      else
        kept.push(p);
    }
    q = kept;
    return dropped;
  };
  std::lock_guard lock(m.shared_mutex);
  m.shared_size.fetch_sub(filter(m.shared), std::memory_order_relaxed);
  for (worker& w : m.workers) {
    if (w.next && doomed(*w.next)) w.next = nullptr;
    filter(w.local);
  }
}

bool thread_pool::single_threaded() const noexcept { return impl_->threads == 1; }

bool thread_pool::on_scheduler_thread() const noexcept { return impl::current_pool == impl_.get(); }

void thread_pool::admit() noexcept {
  impl_->admissions.fetch_add(1, std::memory_order_seq_cst);
  impl_->wake();  // an idle worker holds run_mutex until it wakes and sees `admissions`
  impl_->run_mutex.lock();
}

void thread_pool::release() noexcept {
  impl_->run_mutex.unlock();
  impl_->admissions.fetch_sub(1, std::memory_order_acq_rel);
}

asio::io_context* thread_pool::io_context() noexcept { return &impl_->io; }

}  // namespace coactor
