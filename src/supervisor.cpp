// Supervisors (supervisor.hpp). The body, supervise(), does all the waiting: it stops the children the
// plan says to stop, one at a time, starts those it says to start, and otherwise waits for a message.
// What to do about each event is decided by `tree`, which only keeps the books and makes the plan.
#include <coactor/node.hpp>
#include <coactor/supervisor.hpp>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <deque>
#include <exception>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace coactor {
namespace {

/// The least time a start waits for the process that still holds the child's name (supervisor.hpp).
constexpr duration name_wait_at_least = std::chrono::seconds(5);

struct child {
  child_spec spec;
  pid process;             ///< null while not running
  bool forgotten = false;  ///< a temporary child that ended: erased by tidy()
};

class tree {
 public:
  tree(context self, supervisor_options options, std::vector<child_spec> specs) : self_(self), options_(options) {
    children_.reserve(specs.size());
    for (child_spec& s : specs) children_.push_back({std::move(s), pid{}, false});
    for (std::size_t i = 0; i < children_.size(); ++i) to_start_.push_back(i);
  }

  // ---- the plan: stop these (in this order), then end or start those ----

  bool stopping() const noexcept { return next_stop_ < to_stop_.size(); }
  const pid& next_to_stop() const noexcept { return children_[to_stop_[next_stop_]].process; }
  duration next_shutdown() const noexcept { return children_[to_stop_[next_stop_]].spec.shutdown; }
  /// The next child to stop has ended.
  void stopped() {
    child& c = children_[to_stop_[next_stop_++]];
    c.process = pid{};
    if (c.spec.restart == restart_type::temporary) c.forgotten = true;
  }
  /// The reason to end with, once the children are stopped; none: the supervisor goes on.
  const std::optional<exit_reason>& ending() const noexcept { return ending_; }

  bool starting() const noexcept { return next_start_ < to_start_.size(); }
  /// Starts the next child of the plan and registers its name. Returns the process that still holds
  /// the name, if any: the body waits for it to end (name_wait()), then calls name_again(). If the
  /// child cannot be started, the plan becomes: stop all, then end.
  pid start_next() {
    child& c = children_[to_start_[next_start_++]];
    std::string failure;
    try {
      c.process = self_.spawn_linked(c.spec.start);
    } catch (const std::exception& ex) {
      failure = ex.what();
    } catch (...) {
      failure = "unknown exception";
    }
    if (!failure.empty()) {
      cannot_start(c, failure);
      return {};
    }
    if (c.spec.name.empty()) return {};
    naming_ = &c;
    return name_again(false);
  }
  /// How long to wait for the process holding the name of the child being started.
  duration name_wait() const noexcept { return std::max(naming_->spec.shutdown, name_wait_at_least); }
  /// Registers the name of the child being started again, after its holder ended (or did not in time).
  /// Returns the holder if it is still taken and `last` is false.
  pid name_again(bool last = true) {
    child& c = *naming_;
    for (;;) {
      // The name of the child this one replaces was freed when that one ended. A child that has already
      // ended again cannot hold it (errc::dead_process): its exit is on its way here.
      auto named = self_.node().register_name(c.spec.name, c.process);
      if (named || named.error() == errc::dead_process) break;
      if (!(named.error() == errc::name_taken) || last) {
        cannot_start(c, named.error().message());
        break;
      }
      auto holder = self_.node().whereis(c.spec.name);
      if (holder) return *holder;  // else it has just been freed: try again
    }
    naming_ = nullptr;
    return {};
  }

  /// Erases the temporary children that ended. Only between plans: the plan holds indices.
  void tidy() {
    std::erase_if(children_, [](const child& c) { return c.forgotten; });
    to_stop_.clear();
    next_stop_ = 0;
    to_start_.clear();
    next_start_ = 0;
  }

  // ---- events ----

  void exited(const exit_message& e) {
    child* c = find(e.from);
    if (!c) {
      // Not a child: the process that started it, or anyone calling context::exit. Behave as a process
      // that does not trap exits, but take the children down in order first.
      if (e.reason.abnormal()) give_up(e.reason);
      return;
    }
    c->process = pid{};
    if (c->spec.restart == restart_type::temporary) {
      c->forgotten = true;
      return;
    }
    if (c->spec.restart == restart_type::transient && !e.reason.abnormal()) return;
    if (!may_restart()) return give_up(restart_intensity_exceeded());
    const std::size_t at = static_cast<std::size_t>(c - children_.data());
    std::size_t first = at, last = at + 1;
    if (options_.strategy == restart_strategy::one_for_all) first = 0;
    if (options_.strategy != restart_strategy::one_for_one) last = children_.size();
    for (std::size_t i = last; i-- > first;)
      if (!children_[i].process.is_null()) to_stop_.push_back(i);
    for (std::size_t i = first; i < last; ++i)
      if (children_[i].spec.restart != restart_type::temporary && !children_[i].forgotten) to_start_.push_back(i);
  }

  std::vector<child_info> report() const {
    std::vector<child_info> out;
    for (const child& c : children_)
      if (!c.forgotten) out.push_back({c.spec.id, c.process, c.spec.restart, c.spec.name});
    return out;
  }

 private:
  child* find(const pid& p) noexcept {
    for (child& c : children_)
      if (c.process == p) return &c;
    return nullptr;
  }

  /// Counts a restart; false when that is one too many within options_.within.
  bool may_restart() {
    const time_point now = self_.now();
    restarts_.push_back(now);
    while (now - restarts_.front() > options_.within) restarts_.pop_front();
    return restarts_.size() <= static_cast<std::size_t>(std::max(options_.max_restarts, 0));
  }

  /// The plan becomes: stop every running child, the last started first, then end with `why`.
  void give_up(exit_reason why) {
    ending_ = std::move(why);
    to_start_.clear();
    next_start_ = 0;
    to_stop_.clear();
    next_stop_ = 0;
    for (std::size_t i = children_.size(); i-- > 0;)
      if (!children_[i].process.is_null()) to_stop_.push_back(i);
  }

  void cannot_start(const child& c, const std::string& why) {
    give_up(exit_reason::because("cannot start child '" + c.spec.id + "': " + why));
  }

  context self_;
  supervisor_options options_;
  std::vector<child> children_;  ///< in start order
  std::deque<time_point> restarts_;
  std::vector<std::size_t> to_stop_;  ///< indices into children_, in the order to stop them
  std::size_t next_stop_ = 0;
  std::vector<std::size_t> to_start_;  ///< indices into children_, in start order
  std::size_t next_start_ = 0;
  child* naming_ = nullptr;  ///< the child whose name is being registered
  std::optional<exit_reason> ending_;
};

}  // namespace

exit_reason restart_intensity_exceeded() { return exit_reason::because("restart intensity exceeded"); }

exit_reason shutdown_reason() { return exit_reason::because("shutdown"); }

child_spec supervisor_child(std::string id, supervisor_options options, std::vector<child_spec> children) {
  return child_spec{
      .id = std::move(id),
      .start = [options, children = std::move(children)](context c) { return supervise(c, options, children); },
      .restart = restart_type::permanent,
      .name = {},
      .shutdown = duration::max(),
  };
}

// Every co_await is here, in the body (a process cannot await a coroutine of its own); the messages
// they wait for are named variables, never temporaries built inside the co_await (g++ 12, see
// docs/building.md).
process supervise(context self, supervisor_options options, std::vector<child_spec> children) {
  self.trap_exits();
  tree t(self, options, std::move(children));
  for (;;) {
    while (t.stopping()) {
      const pid target = t.next_to_stop();
      const duration grace = t.next_shutdown();
      auto from_child = [target](const message& m) {
        const exit_message* e = m.get_if<exit_message>();
        return e && e->from == target;
      };
      bool ended = false;
      if (grace > duration::zero()) {
        self.exit(target, shutdown_reason());
        if (grace == duration::max()) {
          co_await self.receive_if(from_child);
          ended = true;
        } else {
          auto in_time = co_await self.receive_if(from_child, grace);
          ended = static_cast<bool>(in_time);
        }
      }
      if (!ended) {
        self.kill(target);
        co_await self.receive_if(from_child);
      }
      t.stopped();
    }
    if (t.ending()) break;
    while (t.starting()) {
      const pid holder = t.start_next();
      if (holder.is_null()) continue;
      const monitor_ref ref = self.monitor(holder);
      auto holder_ended = [ref](const message& m) {
        const down* d = m.get_if<down>();
        return d && d->ref == ref;
      };
      const duration wait = t.name_wait();
      if (wait == duration::max()) {
        co_await self.receive_if(holder_ended);
      } else {
        auto in_time = co_await self.receive_if(holder_ended, wait);
        if (!in_time) self.demonitor(ref);
      }
      t.name_again();
    }
    if (t.stopping()) continue;  // a child could not be started
    t.tidy();
    message m = co_await self.receive();
    if (const exit_message* e = m.get_if<exit_message>())
      t.exited(*e);
    else if (m.is<which_children>())
      self.reply(m, t.report());
  }
  // End with the reason: as a process that does not trap exits, by an exit signal to itself, which
  // takes effect at the next wait.
  const exit_reason why = *t.ending();
  self.trap_exits(false);
  self.exit(self.pid(), why);
  for (;;) co_await self.sleep(std::chrono::hours(1));
}

}  // namespace coactor
