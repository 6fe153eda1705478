#include <coactor/scheduler.hpp>
#include <coactor/transports/tcp/host_link.hpp>

#include <algorithm>
#include <vector>

namespace coactor::tcp {
namespace {
// The links whose call() is in progress on this thread (a short stack: calls nest a few levels at most).
thread_local std::vector<const host_link*> inside;
}  // namespace

void host_link::attach(transport_host& host) {
  std::lock_guard lock(mutex_);
  host_ = &host;
  scheduler_ = &host.scheduler();
}

host_link::entry::entry(host_link& l) : link(l) {
  if (std::find(inside.begin(), inside.end(), &link) != inside.end()) {
    std::lock_guard lock(link.mutex_);
    entered = !link.closed_ && link.host_;  // a nested call: its outer call already counts
    nested = true;
    return;
  }
  {
    std::lock_guard lock(link.mutex_);
    if (link.closed_ || !link.host_) return;
    ++link.active_;
  }
  entered = true;
  inside.push_back(&link);
}

host_link::entry::~entry() {
  if (!entered || nested) return;
  inside.erase(std::find(inside.begin(), inside.end(), &link));
  std::lock_guard lock(link.mutex_);
  if (--link.active_ == 0) link.idle_.notify_all();
}

bool host_link::hold(std::size_t n) {
  std::lock_guard lock(mutex_);
  if (closed_ || !scheduler_) return false;
  if (held_ == 0 && n > 0) scheduler_->work_started();
  held_ += n;
  return true;
}

void host_link::release(std::size_t n) {
  std::lock_guard lock(mutex_);
  if (closed_ || n == 0) return;
  n = std::min(n, held_);
  held_ -= n;
  if (held_ == 0 && n > 0) scheduler_->work_finished();
}

void host_link::close() {
  // A close from inside a host call on this thread (not expected) must not wait for itself.
  const bool self_inside = std::find(inside.begin(), inside.end(), this) != inside.end();
  std::unique_lock lock(mutex_);
  if (closed_) return;
  closed_ = true;
  idle_.wait(lock, [&] { return active_ == (self_inside ? 1 : 0); });
  if (held_ > 0) {
    held_ = 0;
    scheduler_->work_finished();
  }
}

bool host_link::closed() const {
  std::lock_guard lock(mutex_);
  return closed_;
}

}  // namespace coactor::tcp
