// node and node_core: process lifecycle, routing, registry, error reporting.
#include <coactor/detail/address_book.hpp>
#include <coactor/detail/router.hpp>
#include <coactor/node.hpp>
#include <coactor/process_name.hpp>
#include <coactor/thread_pool.hpp>
#include <coactor/transport.hpp>

#include <cstdio>
#include <random>

namespace coactor {
namespace {

std::uint64_t random_u64() {
  std::random_device device;
  std::uint64_t value = 0;
  while (value == 0) value = (std::uint64_t{device()} << 32) ^ device();
  return value;
}

void print_report(const std::string& node_name, const error& e, const pid& who) {
  std::string line = "coactor[" + node_name + "] " + e.message();
  if (!who.is_null()) line += " (" + who.to_string() + ")";
  line += '\n';
  std::fputs(line.c_str(), stderr);
}

}  // namespace

node::node(node_options options) : node(nullptr, std::move(options)) {}

node::node(coactor::scheduler& s, node_options options) : node(&s, std::move(options)) {}

node::node(coactor::scheduler* s, node_options options) {
  if (s) {
    sched_ = s;
  } else {
    own_pool_ = std::make_unique<thread_pool>(options.threads);
    sched_ = own_pool_.get();
  }
  const std::uint64_t incarnation = options.incarnation ? options.incarnation : random_u64();
  detail::siphash_key key{options.pid_key[0], options.pid_key[1]};
  if (key.k0 == 0 && key.k1 == 0) key = {random_u64(), random_u64()};
  core_ = std::make_unique<detail::node_core>(*this, *sched_, std::move(options.name), incarnation, key,
                                              options.flush_timeout, own_pool_ != nullptr, options.tracer);
  if (options.transport) core_->attach_transport(std::move(options.transport), options.format, options.limits);
}

node::~node() {
  if (own_pool_) own_pool_->stop();
  core_->shutdown_transport();
  if (!own_pool_)  // a shared scheduler must not step our processes any more
    sched_->forget_if([core = core_.get()](const detail::process_base& p) { return &p.node == core; });  // a shared scheduler must not step our processes any more
  core_.reset();  // ends the remaining processes while the scheduler still exists
}

namespace detail {

void process_exit(process_base& p, std::exception_ptr failure) noexcept { p.node.exit(p, std::move(failure)); }

node_core::node_core(coactor::node& owner, coactor::scheduler& s, std::string name, std::uint64_t incarnation,
                     siphash_key pid_key, duration flush_timeout, bool owns_scheduler, tracer* t)
    : owner_(owner),
      sched_(s),
      name_(std::move(name)),
      incarnation_(incarnation),
      pid_key_(pid_key),
      concurrent_(!s.single_threaded()),
      table_(concurrent_),
      tracer_(t),
      flush_timeout_(flush_timeout),
      owns_scheduler_(owns_scheduler) {
  std::string node_name = name_;
  hook_ = std::make_shared<const error_hook>(
      [node_name](const error& e, const pid& who) { print_report(node_name, e, who); });
}

node_core::~node_core() {
  if (flush_armed_.load()) sched_.disarm(flush_timer_);
  shutdown_transport();
  destroy_all();
}

void node_core::attach_transport(std::unique_ptr<transport> t, codec format, const decode_limits& limits) {
  router_ = std::make_unique<router>(*this, std::move(t), format, limits);
}

result<node_address> node_core::listen(std::string_view address) {
  if (!router_) return error(errc::unreachable, "this node has no transport (node_options::transport)");
  auto bound = router_->listen(address);
  // Pids spawned from now on carry the address, so that other nodes in this OS process can route to
  // them even when they are handed over directly rather than inside a message.
  if (bound) address_index_.store(address_book::intern(router_->identity().address), std::memory_order_relaxed);
  return bound;
}

std::string node_core::address() const { return router_ ? router_->identity().address : std::string(); }

node_address node_core::bound_address() const {
  auto parsed = node_address::parse(address());  // what the transport's node_address::to_string() wrote
  return parsed ? std::move(*parsed) : node_address{};
}

void node_core::idle_if_no_process() noexcept {
  if (live_.load(std::memory_order_relaxed) == 0) start_flush_deadline();
}

void node_core::start_flush_deadline() noexcept {
  if (!router_ || !owns_scheduler_ || flush_timeout_ == duration::max() || flush_armed_.exchange(true)) return;
  flush_timer_.deadline = sched_.now() + flush_timeout_;
  flush_timer_.fire = &on_flush_deadline;
  flush_timer_.context = this;
  try {
    sched_.arm(flush_timer_);
  } catch (...) {
    flush_armed_.store(false);  // out of memory: run() waits for the transport, as without a deadline
  }
}

void node_core::on_flush_deadline(timer& t) noexcept {
  auto& n = *static_cast<node_core*>(t.context);
  n.flush_armed_.store(false);
  if (n.live_.load(std::memory_order_relaxed) == 0) n.sched_.stop();  // a new process cancels the deadline
}

void node_core::shutdown_transport() noexcept {
  if (!router_) return;
  try {
    router_->shutdown();
  } catch (...) {
  }
}

void node_core::destroy_all() noexcept {
  table_.drain([&](process_base* p) {
    p->root.destroy();  // runs the frame's destructors: pending receives and sleeps disarm their timers
    envelope* e = p->box.close();
    while (e) destroy(std::exchange(e, e->next));
    delete p;
    live_.fetch_sub(1, std::memory_order_relaxed);
    sched_.work_finished();
  });
}

std::uint64_t node_core::new_process_id() noexcept {
  for (;;) {
    std::uint64_t id = siphash24(pid_key_, pid_counter_.fetch_add(1, std::memory_order_relaxed));
    if (id != 0) return id;
  }
}

pid node_core::start(process_base& p, std::coroutine_handle<> root) {
  p.root = root;
  p.resume_point = root;
  const std::uint64_t id = new_process_id();
  p.self = pid(incarnation_, id, table_.insert(id, &p), address_index_.load(std::memory_order_relaxed));
  live_.fetch_add(1, std::memory_order_relaxed);
  spawned_.fetch_add(1, std::memory_order_relaxed);
  sched_.work_started();
  pid self = p.self;  // p may run (and end) on another thread as soon as it is scheduled
  sched_.schedule(p);
  return self;
}

void node_core::exit(process_base& p, std::exception_ptr failure) noexcept {
  const pid self = p.self;
  table_.erase(self.slot());  // from here no sender can reach p: every push to it has completed
  if (p.registered) {          // stable now: register_name() sets it under the same table lock
    std::lock_guard lock(registry_mutex_);
    if (auto it = names_.find(self.id()); it != names_.end()) {
      registry_.erase(it->second);
      names_.erase(it);
    }
  }
  std::uint64_t unread = 0;
  std::uint64_t stale = 0;
  for (envelope* e = p.box.close(); e;) {
    envelope* next = e->next;
    if (e->kind == envelope_kind::request)
      fail_request(e->from, e->tag, self, error(errc::dead_process, "process " + self.to_string() + " ended before replying"));
    else if (e->kind == envelope_kind::message)
      ++unread;
    else if (e->kind == envelope_kind::reply || e->kind == envelope_kind::failure)
      ++stale;  // no request is awaited any more: its request timed out, like those receive drops
    destroy(e);
    e = next;
  }
  if (stale) stale_replies_.fetch_add(stale, std::memory_order_relaxed);
  if (unread) {
    unread_dropped_.fetch_add(unread, std::memory_order_relaxed);
    report(error(errc::unread_messages, std::to_string(unread) + " message(s) dropped"), self);
  }
  if (failure) {
    failures_.fetch_add(1, std::memory_order_relaxed);
    std::string what = "unknown exception";
    try {
      std::rethrow_exception(failure);
    } catch (const std::exception& ex) {
      what = ex.what();
    } catch (...) {
    }
    report(error(errc::exception, std::move(what)), self);
  }
  p.root.destroy();
  delete &p;
  if (live_.fetch_sub(1, std::memory_order_relaxed) == 1) start_flush_deadline();
  sched_.work_finished();
}

void node_core::route(const pid& to, envelope* e) noexcept {
  if (to.is_null()) return undeliverable(to, e, error(errc::dead_process, "the null pid names no process"));
  if (!is_local(to)) {
    if (router_) return router_->send(to, e);
    return undeliverable(to, e, error(errc::unreachable, "no transport: " + to.to_string()));
  }
  process_base* woken = nullptr;
  const bool delivered = table_.with(to.slot(), to.id(), [&](process_base* p) {
    if (!p) return false;
    if (tracer_) tracer_->delivering(to, *e);
    switch (p->box.push(e, concurrent_)) {
      case mailbox::push_result::woke_owner:
        woken = p;
        return true;
      case mailbox::push_result::queued:
        return true;
      case mailbox::push_result::closed:
        return false;
    }
    return false;
  });
  // p was blocked in a receive, so it cannot run (nor end) until this schedule: it is safe to use here.
  if (woken) sched_.schedule(*woken);
  if (!delivered) undeliverable(to, e, errc::dead_process);
}

void node_core::route(const process_name& target, envelope* e) noexcept {
  if (!target.address.empty() && (!router_ || target.address != router_->identity().address)) {
    if (router_) return router_->send_to_name(target.address, target.name, e);
    return undeliverable(pid{}, e, error(errc::unreachable, "no transport: " + target.to_string()));
  }
  auto found = whereis(target.name);
  if (!found) return undeliverable(pid{}, e, error(errc::no_such_name, "'" + target.name + "'"));
  if (e->kind == envelope_kind::request && *found == e->from) {
    fail_request(e->from, e->tag, *found, error(errc::request_to_self, "'" + target.name + "' is the requester"));
    return destroy(e);
  }
  route(*found, e);
}

void node_core::route_from_outside(const pid& to, envelope* e) {
  if (concurrent_ || sched_.on_scheduler_thread()) return route(to, e);
  struct parcel {  // owns the envelope until delivered, so a post that never runs does not leak it
    envelope* e;
    explicit parcel(envelope* x) noexcept : e(x) {}
    parcel(parcel&& o) noexcept : e(std::exchange(o.e, nullptr)) {}
    parcel(const parcel& o) = delete;
    ~parcel() { destroy(e); }
  };
  auto shared = std::make_shared<parcel>(e);
  // Runs on the scheduler's thread, and a node is not destroyed while its scheduler runs: checking the
  // lifetime token there is enough.
  sched_.post([this, alive = lifetime(), to, shared] {
    if (!alive.expired()) route(to, std::exchange(shared->e, nullptr));
  });
}

void node_core::undeliverable(const pid& to, envelope* e, errc why) noexcept {
  try {
    undeliverable(to, e, error(why, (why == errc::dead_process ? "no process " : "no route to ") + to.to_string()));
  } catch (...) {
    destroy(e);
  }
}

void node_core::undeliverable(const pid& to, envelope* e, const error& why) noexcept {
  if (e->kind == envelope_kind::request) {
    fail_request(e->from, e->tag, to, why);
    destroy(e);
    return;
  }
  dead_letters_.fetch_add(1, std::memory_order_relaxed);
  const char* what = e->kind == envelope_kind::reply     ? "reply"
                     : e->kind == envelope_kind::failure ? "failure reply"
                                                         : "message";
  std::string type(e->type ? e->type->name : std::string_view("?"));
  const pid who = is_local(to) ? to : e->from;  // the process of this node the report is about
  destroy(e);
  try {
    report(error(why.code(), std::string(what) + " of type " + type + " dropped: " + why.detail()), who);
  } catch (...) {
  }
}

void node_core::fail_request(const pid& requester, std::uint64_t tag, const pid& from, error why) noexcept {
  try {
    envelope* f = make_envelope<error>(std::move(why));
    f->kind = envelope_kind::failure;
    f->tag = tag;
    f->from = from;
    route(requester, f);
  } catch (...) {
    // Out of memory while reporting a failure: the requester will time out instead.
  }
}

void node_core::reply_error(const envelope* req, const pid& self, error why) noexcept {
  if (!req) return;
  try {
    if (why.code().category() != error_category()) why = error(errc::rejected, why.message());
    if (req->kind == envelope_kind::request) return fail_request(req->from, req->tag, self, std::move(why));
    report(error(why.code(), "an error in reply to a plain message from " + req->from.to_string() + ": " + why.detail()),
           self);
  } catch (...) {
    // Out of memory while building the texts: the requester will time out instead.
  }
}

void node_core::dead_letter(const pid& to, envelope* e, errc why) noexcept {
  try {
    undeliverable(to, e, error(why, to.to_string()));
  } catch (...) {
    destroy(e);
  }
}

void node_core::report(const error& e, const pid& who) noexcept {
  std::shared_ptr<const error_hook> hook;
  {
    std::lock_guard lock(hook_mutex_);
    hook = hook_;
  }
  if (hook && *hook) {
    try {
      (*hook)(e, who);
    } catch (...) {
      // A throwing hook must not take the node down.
    }
  }
}

void node_core::set_error_hook(error_hook hook) {
  auto next = std::make_shared<const error_hook>(std::move(hook));
  std::lock_guard lock(hook_mutex_);
  hook_ = std::move(next);
}

result<void> node_core::register_name(std::string name, const pid& p) {
  if (!is_local(p)) return error(errc::not_local, p.to_string());
  std::lock_guard lock(registry_mutex_);
  if (auto it = registry_.find(name); it != registry_.end())
    return error(errc::name_taken, "'" + name + "' is " + it->second.to_string());
  const errc failure = table_.with(p.slot(), p.id(), [&](process_base* proc) {
    if (!proc) return errc::dead_process;
    if (proc->registered) return errc::already_registered;
    proc->registered = true;
    return errc{};
  });
  if (failure == errc::dead_process) return error(failure, p.to_string());
  if (failure == errc::already_registered) return error(failure, p.to_string() + " cannot also be '" + name + "'");
  names_.emplace(p.id(), name);
  registry_.emplace(std::move(name), p);
  return {};
}

result<void> node_core::unregister_name(std::string_view name) {
  std::lock_guard lock(registry_mutex_);
  auto it = registry_.find(name);
  if (it == registry_.end()) return error(errc::no_such_name, std::string(name));
  const pid p = it->second;
  table_.with(p.slot(), p.id(), [&](process_base* proc) {
    if (proc) proc->registered = false;
  });
  names_.erase(p.id());
  registry_.erase(it);
  return {};
}

result<pid> node_core::whereis(std::string_view name) const {
  std::lock_guard lock(registry_mutex_);
  auto it = registry_.find(name);
  if (it == registry_.end()) return error(errc::no_such_name, std::string(name));
  return it->second;
}

coactor::node_stats node_core::stats() const noexcept {
  coactor::node_stats s;
  s.processes = live_.load(std::memory_order_relaxed);
  s.spawned = spawned_.load(std::memory_order_relaxed);
  s.dead_letters = dead_letters_.load(std::memory_order_relaxed);
  s.unread_dropped = unread_dropped_.load(std::memory_order_relaxed);
  s.stale_replies = stale_replies_.load(std::memory_order_relaxed);
  s.failures = failures_.load(std::memory_order_relaxed);
  s.bad_frames = router_ ? router_->bad_frames() : 0;
  return s;
}

}  // namespace detail
}  // namespace coactor
