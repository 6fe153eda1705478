// The rules of docs/transports.md ("The contract"), each a SECTION of check(). Every rule builds its own
// nodes on a fresh bed, runs them until what it waits for has happened (or a time limit), and only then
// asserts: Catch2 assertions are not thread-safe, so processes record what they see (atomics, or a
// mutex) and the test thread reads it once the bed has stopped running.
#include <coactor/transports/conformance.hpp>

#include <coactor/coactor.hpp>
#include <coactor/thread_pool.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <thread>
#include <utility>
#include <vector>

namespace coactor::conformance {

// The messages the rules exchange (named namespace: their wire names must be stable).
namespace messages {
struct numbered {  ///< the n-th message of `sender`
  int sender = 0;
  std::int64_t n = 0;
};
struct who {  ///< a request: the server answers its own pid
  int unused = 0;
};
struct dead_pid {  ///< a request: the server answers the pid of a process that has ended
  int unused = 0;
};
struct relay {  ///< the server sends poke{reply_to, n} to `to`
  pid to;
  pid reply_to;
  int n = 0;
};
struct poke {  ///< the server sends answer{n + 1} to `reply_to`
  pid reply_to;
  int n = 0;
};
struct answer {
  int n = 0;
};
struct refuse {  ///< a request: the server answers error(errc::rejected, why)
  std::string why;
};
}  // namespace messages

using namespace messages;
using namespace std::chrono_literals;

namespace {

// A rule the subject declares it breaks (subject::known_violations) still runs: each failed check is
// printed as a warning (with the messages in scope) and recorded as Catch2's CHECK_NOFAIL does, without
// failing the test, so the output tells the truth. (A failed CHECK_NOFAIL alone is printed only with -s.)
thread_local bool tolerated = false;  // the rule running now is a declared violation
thread_local bool violated = false;   // and one of its checks failed

#define COACTOR_RULE_CHECK(...)                                    \
  do {                                                             \
    if (tolerated) {                                               \
      if (!static_cast<bool>(__VA_ARGS__)) {                       \
        violated = true;                                           \
        WARN("known violation, this check fails: " #__VA_ARGS__); \
      }                                                            \
      CHECK_NOFAIL(__VA_ARGS__);                                   \
    } else {                                                       \
      CHECK(__VA_ARGS__);                                          \
    }                                                              \
  } while (false)

// ---- the threaded bed ----

class threaded final : public bed {
 public:
  threaded(std::function<std::unique_ptr<transport>()> make, std::string host, unsigned threads)
      : make_(std::move(make)), host_(std::move(host)), pool_(threads) {}

  coactor::scheduler& scheduler() noexcept override { return pool_; }
  std::unique_ptr<transport> make_transport() override { return make_(); }
  std::string fresh_address(std::string_view) override { return host_ + ":0"; }

  bool run_until(const std::function<bool()>& done, duration limit) override {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    auto finished = [&] { return done() || std::chrono::steady_clock::now() >= deadline; };
    std::atomic<bool> over{false};
    // pool.run() returns on stop() or when no process is left; a stop() that comes before run() has
    // started is forgotten, so the watch repeats it for as long as the condition holds.
    std::thread watch([&] {
      while (!over.load()) {
        if (finished()) pool_.stop();
        std::this_thread::sleep_for(1ms);
      }
    });
    while (!finished()) {
      pool_.run();
      if (!finished()) std::this_thread::sleep_for(1ms);
    }
    over = true;
    watch.join();
    return done();
  }

 private:
  std::function<std::unique_ptr<transport>()> make_;
  std::string host_;
  thread_pool pool_;
};

// ---- what processes and hooks record ----

/// What one node's error hook saw; outlives the node (the hook runs during its destructor too).
class error_log {
 public:
  void add(const error& e) {
    std::lock_guard lock(mutex_);
    seen_.push_back(e);
  }
  std::size_t count(errc code) const {
    std::lock_guard lock(mutex_);
    return static_cast<std::size_t>(std::count_if(seen_.begin(), seen_.end(), [&](const error& e) { return e == code; }));
  }
  std::size_t size() const {
    std::lock_guard lock(mutex_);
    return seen_.size();
  }
  std::string dump() const {
    std::lock_guard lock(mutex_);
    std::string out;
    for (const error& e : seen_) out += "  " + e.message() + "\n";
    return out.empty() ? "  (nothing)\n" : out;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<error> seen_;
};

/// A value written by a process and read by the test.
template <class T>
class shared {
 public:
  void set(T v) {
    std::lock_guard lock(mutex_);
    value_ = std::move(v);
  }
  T get() const {
    std::lock_guard lock(mutex_);
    return value_;
  }

 private:
  mutable std::mutex mutex_;
  T value_{};
};

/// What a server counted of the numbered messages it received.
struct tally {
  std::atomic<std::int64_t> received{0};
  std::atomic<std::int64_t> out_of_order{0};
  std::mutex mutex;
  std::map<int, std::int64_t> next;  ///< per sender, the n expected next

  void count(const numbered& m) {
    {
      std::lock_guard lock(mutex);
      std::int64_t& expected = next[m.sender];
      if (m.n != expected) ++out_of_order;
      expected = m.n + 1;
    }
    ++received;
  }
};

/// The process every rule talks to (see `messages`).
process serve(context self, tally* counted) {
  for (;;) {
    message m = co_await self.receive();
    if (auto* n = m.get_if<numbered>()) {
      counted->count(*n);
    } else if (auto* text = m.get_if<std::string>()) {
      if (m.is_request()) self.reply(m, *text);
    } else if (m.is<who>()) {
      self.reply(m, self.pid());
    } else if (m.is<dead_pid>()) {
      const pid gone = self.spawn([](context) -> process { co_return; });
      co_await self.sleep(10ms);
      self.reply(m, gone);
    } else if (auto* r = m.get_if<relay>()) {
      self.send(r->to, poke{r->reply_to, r->n});
    } else if (auto* p = m.get_if<poke>()) {
      self.send(p->reply_to, answer{p->n + 1});
    } else if (auto* f = m.get_if<refuse>()) {
      self.reply(m, error(errc::rejected, f->why));
    }
  }
}

// ---- what a transport tells its node about peers ----

/// The peer events of one node, in the order its transport made them, with the frames it sent and was
/// given back (to tell which were held when a peer went down), and what broke the contract on the spot.
class peer_log {
 public:
  enum class what { up, down, sent, given_back };
  struct event {
    what kind;
    std::uint64_t incarnation;  ///< the peer's; for a frame, its target's
    time_point at;
    std::string frame;          ///< sent and given_back
  };

  void add(what kind, std::uint64_t incarnation, time_point at, std::string_view frame = {}) {
    std::lock_guard lock(mutex_);
    if (kind == what::up && !up_.insert(incarnation).second) ++twice_up_;
    if (kind == what::down && up_.erase(incarnation) == 0) ++down_not_up_;
    events_.push_back({kind, incarnation, at, std::string(frame)});
  }
  /// A frame from `incarnation` reaches the node: it must be up.
  void delivered(std::uint64_t incarnation) {
    std::lock_guard lock(mutex_);
    ++deliveries_;
    if (!up_.count(incarnation)) ++delivered_not_up_;
  }

  std::vector<event> events() const {
    std::lock_guard lock(mutex_);
    return events_;
  }
  std::size_t count(what kind, std::uint64_t incarnation) const {
    std::lock_guard lock(mutex_);
    return static_cast<std::size_t>(std::count_if(events_.begin(), events_.end(), [&](const event& e) {
      return e.kind == kind && e.incarnation == incarnation;
    }));
  }
  std::size_t peer_events() const {
    std::lock_guard lock(mutex_);
    return static_cast<std::size_t>(std::count_if(events_.begin(), events_.end(), [](const event& e) {
      return e.kind == what::up || e.kind == what::down;
    }));
  }
  int deliveries() const { return read(deliveries_); }
  int delivered_not_up() const { return read(delivered_not_up_); }
  int twice_up() const { return read(twice_up_); }
  int down_not_up() const { return read(down_not_up_); }
  std::string dump() const {
    static const char* names[] = {"peer_up", "peer_down", "sent", "given back"};
    std::lock_guard lock(mutex_);
    std::string out;
    for (const event& e : events_)
      out += "  " + std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(e.at.time_since_epoch()).count()) +
             "ms " + names[static_cast<int>(e.kind)] + " " + std::to_string(e.incarnation) + "\n";
    return out.empty() ? "  (nothing)\n" : out;
  }

 private:
  int read(const int& n) const {
    std::lock_guard lock(mutex_);
    return n;
  }
  mutable std::mutex mutex_;
  std::vector<event> events_;
  std::set<std::uint64_t> up_;
  int deliveries_ = 0, delivered_not_up_ = 0, twice_up_ = 0, down_not_up_ = 0;
};

/// The transport under test, as its node sees it, with a peer_log of what passes between them.
class watched_transport final : public transport, private transport_host {
 public:
  watched_transport(std::unique_ptr<transport> inner, std::shared_ptr<peer_log> log, coactor::scheduler& clock)
      : inner_(std::move(inner)), log_(std::move(log)), clock_(clock) {}

  void attach(transport_host& node) override {
    node_ = &node;
    inner_->attach(*this);
  }
  result<node_address> listen(std::string_view address) override { return inner_->listen(address); }
  void send(const peer_ref& peer, std::string_view frame) override {
    inner_->send(peer, frame);
    // Logged once the transport has it (the caller's bytes are still there): a send still in progress
    // when the peer was reported down, on another thread, is not one that came before the report.
    log_->add(peer_log::what::sent, wire::target_incarnation(frame), clock_.now(), frame);
  }
  void shutdown() override { inner_->shutdown(); }
  std::vector<peer_stats> peers() const override { return inner_->peers(); }
  bool has_room(const peer_ref& peer) const override { return inner_->has_room(peer); }

 private:
  const node_identity& identity() const noexcept override { return node_->identity(); }
  coactor::scheduler& scheduler() noexcept override { return node_->scheduler(); }
  result<void> deliver(const node_identity& from, std::string_view frame) override {
    log_->delivered(from.incarnation);
    return node_->deliver(from, frame);
  }
  void undeliverable(std::string_view frame, const error& why) override {
    log_->add(peer_log::what::given_back, wire::target_incarnation(frame), clock_.now(), frame);
    node_->undeliverable(frame, why);
  }
  void report(const error& what) override { node_->report(what); }
  void peer_up(const node_identity& peer) override {
    log_->add(peer_log::what::up, peer.incarnation, clock_.now());
    node_->peer_up(peer);
  }
  void peer_down(const node_identity& peer, const error& why) override {
    log_->add(peer_log::what::down, peer.incarnation, clock_.now());
    node_->peer_down(peer, why);
  }
  void room(const node_identity& peer) override { node_->room(peer); }

  std::unique_ptr<transport> inner_;
  std::shared_ptr<peer_log> log_;
  coactor::scheduler& clock_;
  transport_host* node_ = nullptr;
};

// ---- the nodes of one rule ----

class world {
 public:
  /// `watch`: every node's transport is watched (watched_transport), its peer events logged.
  explicit world(const subject& s, bool watch = false)
      : subject_(s), bed_(s.make_bed ? s.make_bed() : threaded_bed(s.make)), watch_(watch) {}
  ~world() { members_.clear(); }  // nodes before the bed

  /// A node with the transport under test, its errors logged; listening at a fresh address unless told
  /// otherwise, or at `address`.
  node& add(const std::string& name, bool listen = true, const std::string& address = {}) {
    auto m = std::make_unique<member>();
    m->log = std::make_shared<error_log>();
    std::unique_ptr<transport> t = bed_->make_transport();
    if (watch_) {
      m->peers = std::make_shared<peer_log>();
      t = std::make_unique<watched_transport>(std::move(t), m->peers, bed_->scheduler());
    }
    m->n = std::make_unique<node>(bed_->scheduler(), node_options{.name = name, .transport = std::move(t)});
    m->n->on_error([log = m->log](const error& e, const pid&) { log->add(e); });
    if (listen) {
      auto bound = m->n->listen(address.empty() ? bed_->fresh_address(name) : address);
      if (!bound) FAIL(name << ": listen: " << bound.error().message());
    }
    members_.push_back(std::move(m));
    return *members_.back()->n;
  }
  /// Destroys `n` (its transport shuts down); its error log stays readable.
  void remove(node& n) { find(n).n.reset(); }
  const error_log& errors(node& n) { return *find(n).log; }
  /// What `n`'s transport told it about peers (a world that watches); outlives the node.
  std::shared_ptr<const peer_log> peers(node& n) { return find(n).peers; }
  std::shared_ptr<const error_log> shared_errors(node& n) { return find(n).log; }

  /// A node serving `serve` under the name "server".
  pid serve_on(node& n, tally& counted) {
    const pid p = n.spawn(serve, &counted);
    if (auto r = n.register_name("server", p); !r) FAIL("register_name: " << r.error().message());
    return p;
  }

  /// Runs the bed until `done()`, for at most `limit` times the slowdown (in a rule declared broken,
  /// where what it waits for may never come, at most 3 s times the slowdown).
  bool run_until(const std::function<bool()>& done, duration limit = 10s) {
    return bed_->run_until(done, (tolerated ? std::min<duration>(limit, 3s) : limit) * subject_.slowdown);
  }
  /// How long a request may take. In a rule declared broken, where it usually ends in its timeout, 2 s.
  duration patience(duration d = 10s) const { return tolerated ? duration(2s) : d * subject_.slowdown; }
  int scaled(int n) const { return std::max(n / subject_.slowdown, 10); }
  conformance::bed& bed() { return *bed_; }
  const declared_properties& declared() const { return subject_.properties; }

 private:
  struct member {
    std::shared_ptr<error_log> log;
    std::shared_ptr<peer_log> peers;
    std::unique_ptr<node> n;
  };
  member& find(node& n) {
    for (auto& m : members_)
      if (m->n.get() == &n) return *m;
    throw std::logic_error("conformance: not a node of this world");
  }

  const subject& subject_;
  std::unique_ptr<conformance::bed> bed_;
  bool watch_;
  std::vector<std::unique_ptr<member>> members_;
};

process_name server_at(node& n) { return process_name{n.address(), "server"}; }

std::string code_of(const std::optional<error>& e) { return e ? e->message() : std::string("(no error)"); }

// ---- the rules ----

void request_and_reply(const subject& s) {
  tally counted;
  std::atomic<bool> done{false};
  shared<std::optional<std::string>> by_name, by_pid;
  shared<std::optional<error>> refused;
  world w(s);
  node& b = w.add("server");
  w.serve_on(b, counted);
  node& a = w.add("client");
  const process_name to = server_at(b);
  const duration t = w.patience();
  a.spawn([&, to, t](context self) -> process {
    const std::string hello = "hello";
    if (auto r = co_await self.request<std::string>(to, hello, t)) by_name.set(*r);
    const who question;
    auto server = co_await self.request<pid>(to, question, t);
    if (server) {
      const std::string again = "by pid";
      if (auto r = co_await self.request<std::string>(*server, again, t)) by_pid.set(*r);
    }
    const refuse no{"not today"};
    auto r = co_await self.request<std::string>(to, no, t);
    if (!r) refused.set(r.error());
    done = true;
  });
  REQUIRE(w.run_until([&] { return done.load(); }));
  COACTOR_RULE_CHECK(by_name.get() == std::optional<std::string>("hello"));
  COACTOR_RULE_CHECK(by_pid.get() == std::optional<std::string>("by pid"));
  const auto why = refused.get();
  COACTOR_RULE_CHECK(why.has_value());
  if (!why) return;
  COACTOR_RULE_CHECK(*why == errc::rejected);
  COACTOR_RULE_CHECK(why->detail() == "not today");
}

void order_per_sender(const subject& s) {
  tally counted;
  world w(s);
  node& b = w.add("server");
  const pid server = w.serve_on(b, counted);
  node& a = w.add("client");
  const int count = w.scaled(2000);
  a.spawn([server, count](context self) -> process {
    for (int i = 0; i < count; ++i) {
      self.send(server, numbered{0, i});
      if (i % 64 == 63) co_await self.yield_now();
    }
  });
  w.run_until([&] { return counted.received.load() >= count; });
  COACTOR_RULE_CHECK(counted.received.load() == count);
  if (w.declared().ordered) COACTOR_RULE_CHECK(counted.out_of_order.load() == 0);
}

void concurrent_senders(const subject& s) {
  constexpr int senders = 16;
  tally counted;
  world w(s);
  node& b = w.add("server");
  const pid server = w.serve_on(b, counted);
  node& a = w.add("client");
  const int each = w.scaled(200);
  for (int k = 0; k < senders; ++k)
    a.spawn([server, each, k](context self) -> process {
      for (int i = 0; i < each; ++i) {
        self.send(server, numbered{k, i});
        if (i % 16 == 15) co_await self.yield_now();
      }
    });
  w.run_until([&] { return counted.received.load() >= senders * each; });
  COACTOR_RULE_CHECK(counted.received.load() == senders * each);
  if (w.declared().ordered) COACTOR_RULE_CHECK(counted.out_of_order.load() == 0);
}

void pid_across_three_nodes(const subject& s) {
  tally counted;
  std::atomic<int> answered{0};
  world w(s);
  node& b = w.add("relay");
  w.serve_on(b, counted);
  node& c = w.add("target");
  w.serve_on(c, counted);
  node& a = w.add("client");
  const process_name relay_name = server_at(b), target_name = server_at(c);
  const duration t = w.patience();
  a.spawn([&, relay_name, target_name, t](context self) -> process {
    const who question;
    auto target = co_await self.request<pid>(target_name, question, t);  // a pid of C, from C
    if (!target) co_return;
    self.send(relay_name, relay{*target, self.pid(), 41});  // B gets it, and pokes C, which answers A
    if (auto got = co_await self.receive<answer>(t)) answered = (*got)->n;
  });
  w.run_until([&] { return answered.load() != 0; });
  COACTOR_RULE_CHECK(answered.load() == 42);
}

void reaches_nodes_that_do_not_listen(const subject& s) {
  tally counted;
  shared<std::optional<std::string>> reply;
  world w(s);
  node& b = w.add("server");
  w.serve_on(b, counted);
  node& a = w.add("client", false);
  const process_name to = server_at(b);
  const duration t = w.patience();
  a.spawn([&, to, t](context self) -> process {
    const std::string hello = "from a node that does not listen";
    if (auto r = co_await self.request<std::string>(to, hello, t)) reply.set(*r);
  });
  if (w.declared().reaches_nodes_that_do_not_listen) {
    w.run_until([&] { return reply.get().has_value(); });
    COACTOR_RULE_CHECK(reply.get() == std::optional<std::string>("from a node that does not listen"));
  } else {
    // The request arrives; the reply cannot go back, and the server's node reports it.
    w.run_until([&] { return w.errors(b).count(errc::unreachable) > 0; });
    INFO("the server's errors:\n" << w.errors(b).dump());
    COACTOR_RULE_CHECK(w.errors(b).count(errc::unreachable) == 1);
    COACTOR_RULE_CHECK(b.stats().dead_letters == 1);
    COACTOR_RULE_CHECK(!reply.get());
  }
}

/// A request and a plain message to `target`: the request must fail with `expected` (or `or_else`, when
/// given); the plain message must be a dead letter with `expected` at `reporting` (the sender for an
/// unreachable node, the node that finds its target gone otherwise).
template <class Target>
void undeliverable(world& w, node& a, node& reporting, Target target, errc expected, std::optional<errc> or_else = {}) {
  shared<std::optional<error>> failed;
  std::atomic<bool> done{false};
  const auto dead_letters_before = reporting.stats().dead_letters;
  const auto logged_before = w.errors(reporting).count(expected);
  const duration t = w.patience();
  a.spawn([&, target, t](context self) -> process {
    const std::string hello = "anyone?";
    auto r = co_await self.request<std::string>(target, hello, t);
    failed.set(r ? std::optional<error>() : std::optional<error>(r.error()));
    self.send(target, std::string("and a plain message"));
    done = true;
  });
  w.run_until([&] { return done.load() && w.errors(reporting).count(expected) > logged_before; });
  const auto why = failed.get();
  INFO("the request ended with: " << code_of(why));
  INFO("errors reported by " << reporting.name() << ":\n" << w.errors(reporting).dump());
  COACTOR_RULE_CHECK((why && (*why == expected || (or_else && *why == *or_else))));
  COACTOR_RULE_CHECK(reporting.stats().dead_letters == dead_letters_before + 1);
  COACTOR_RULE_CHECK(w.errors(reporting).count(expected) == logged_before + 1);
}

void unreachable_node(const subject& s) {
  world w(s);
  node& gone = w.add("gone");
  const std::string address = gone.address().to_string();
  w.remove(gone);  // nobody listens at its address any more
  node& a = w.add("client");
  undeliverable(w, a, a, process_name{address, "server"}, errc::unreachable);
}

void unknown_name(const subject& s) {
  tally counted;
  world w(s);
  node& b = w.add("server");
  w.serve_on(b, counted);
  node& a = w.add("client");
  undeliverable(w, a, b, process_name{b.address(), "nobody"}, errc::no_such_name);
}

/// The pid the server of `b` answers `Question` with, asked from a process of `a` (`attempts` times at
/// most, each waiting a `attempts`-th of the patience).
template <class Question>
pid ask_for_pid(world& w, node& a, node& b, int attempts = 1) {
  auto answer = std::make_shared<shared<pid>>();  // shared: the process may outlive this call
  const process_name to = server_at(b);
  const duration t = w.patience() / attempts;
  auto failed = std::make_shared<shared<std::optional<error>>>();
  a.spawn([answer, failed, to, t, attempts](context self) -> process {
    const Question question;
    for (int i = 0; i < attempts; ++i) {
      auto r = co_await self.request<pid>(to, question, t);
      if (r) {
        answer->set(*r);
        co_return;
      }
      failed->set(r.error());
    }
  });
  const bool answered = w.run_until([&] { return !answer->get().is_null(); });
  INFO("the request ended with: " << code_of(failed->get()));
  REQUIRE(answered);
  return answer->get();
}

void dead_pid_(const subject& s) {
  tally counted;
  world w(s);
  node& b = w.add("server");
  w.serve_on(b, counted);
  node& a = w.add("client");
  const pid gone = ask_for_pid<dead_pid>(w, a, b);
  undeliverable(w, a, b, gone, errc::dead_process);
}

void stale_incarnation(const subject& s) {
  tally counted;
  world w(s);
  node& b = w.add("server");
  w.serve_on(b, counted);
  const std::string address = b.address().to_string();
  node& a = w.add("client");
  const pid old = ask_for_pid<who>(w, a, b);
  w.remove(b);
  node& again = w.add("server", true, address);  // a new incarnation at the same address
  INFO("restarted at " << address << " as " << again.address().to_string());
  REQUIRE(again.address().to_string() == address);
  w.serve_on(again, counted);
  COACTOR_RULE_CHECK(again.incarnation() != old.incarnation());
  // A transport that detects failures reports the old incarnation down (its node shut down): a request
  // still waiting for it when that report arrives fails with node_down instead, which is as true.
  undeliverable(w, a, again, old, errc::dead_process,
                w.declared().detects_failures ? std::optional<errc>(errc::node_down) : std::nullopt);
}

void large_frames(const subject& s) {
  tally counted;
  std::atomic<bool> done{false};
  shared<bool> intact;
  world w(s);
  node& b = w.add("server");
  w.serve_on(b, counted);
  node& a = w.add("client");
  const process_name to = server_at(b);
  const duration t = w.patience(30s);
  a.spawn([&, to, t](context self) -> process {
    std::string big(std::size_t{4} << 20, '\0');
    for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>('a' + i % 23);
    auto r = co_await self.request<std::string>(to, big, t);
    intact.set(r && *r == big);
    done = true;
  });
  w.run_until([&] { return done.load(); }, 30s);
  COACTOR_RULE_CHECK(intact.get());
}

void over_the_limit(const subject& s) {
  tally counted;
  shared<std::optional<error>> failed;
  std::atomic<bool> done{false};
  world w(s);
  node& b = w.add("server");
  w.serve_on(b, counted);
  node& a = w.add("client");
  const process_name to = server_at(b);
  const duration t = w.patience(30s);
  const std::size_t size = w.declared().max_frame_bytes;
  a.spawn([&, to, t, size](context self) -> process {
    const std::string huge(size, 'x');  // with its frame header, over the limit
    auto r = co_await self.request<std::string>(to, huge, t);
    failed.set(r ? std::optional<error>() : std::optional<error>(r.error()));
    done = true;
  });
  w.run_until([&] { return done.load(); }, 40s);
  const auto why = failed.get();
  INFO("the request ended with: " << code_of(why) << "; the server reported:\n" << w.errors(b).dump()
                                   << "the client reported:\n" << w.errors(a).dump());
  COACTOR_RULE_CHECK(done.load());
  COACTOR_RULE_CHECK((why && (*why == errc::too_large || *why == errc::unreachable)));
  // The server lives on: it still answers.
  shared<std::optional<std::string>> after;
  a.spawn([&, to](context self) -> process {
    const std::string hello = "still there?";
    if (auto r = co_await self.request<std::string>(to, hello, 10s)) after.set(*r);
  });
  w.run_until([&] { return after.get().has_value(); });
  COACTOR_RULE_CHECK(after.get() == std::optional<std::string>("still there?"));
}

void shutdown_with_frames_in_flight(const subject& s) {
  tally counted;
  std::atomic<bool> sent{false};
  world w(s);
  node& b = w.add("server");
  const pid server = w.serve_on(b, counted);
  node& a = w.add("client");
  const int count = w.scaled(2000);
  a.spawn([&, server, count](context self) -> process {
    for (int i = 0; i < count; ++i) self.send(server, numbered{0, i});
    sent = true;
    co_await self.receive();  // stays alive: the node goes first
  });
  REQUIRE(w.run_until([&] { return sent.load(); }));
  auto log = w.shared_errors(a);
  w.remove(a);  // with frames queued, being written, or on their way
  auto reported = [&] { return std::int64_t(log->count(errc::stopped) + log->count(errc::unreachable)); };
  w.run_until([&] { return counted.received.load() + reported() >= count; }, 5s);
  INFO("delivered " << counted.received.load() << ", reported " << reported() << ", of " << count
                    << "; the sender reported:\n" << log->dump());
  COACTOR_RULE_CHECK(counted.received.load() <= count);
  COACTOR_RULE_CHECK(counted.received.load() + reported() >= count);  // none lost silently
  if (w.declared().ordered) COACTOR_RULE_CHECK(counted.out_of_order.load() == 0);
}

/// A host for a transport of the test's own: records what the transport calls.
class stand_in_host final : public transport_host {
 public:
  explicit stand_in_host(coactor::scheduler& s) : scheduler_(s) {
    identity_.incarnation = 0x5eed'0000'0000'0001;
    identity_.name = "stand-in";
  }
  const node_identity& identity() const noexcept override { return identity_; }
  coactor::scheduler& scheduler() noexcept override { return scheduler_; }
  result<void> deliver(const node_identity&, std::string_view) override {
    called();
    ++delivered;
    return {};
  }
  void undeliverable(std::string_view, const error& why) override {
    called();
    ++given_back;
    log.add(why);
  }
  void report(const error& what) override {
    called();
    log.add(what);
  }
  void peer_up(const node_identity&) override {
    called();
    ++ups;
  }
  void peer_down(const node_identity&, const error&) override {
    called();
    ++downs;
  }
  void listened(const node_address& at) { identity_.address = at.to_string(); }

  std::atomic<int> delivered{0};
  std::atomic<int> given_back{0};
  std::atomic<int> ups{0};
  std::atomic<int> downs{0};
  std::atomic<int> after_shutdown{0};
  std::atomic<bool> shut{false};
  error_log log;

 private:
  void called() {
    if (shut.load()) ++after_shutdown;
  }
  coactor::scheduler& scheduler_;
  node_identity identity_;
};

/// Frames with a valid length prefix and a body no node can read.
std::vector<std::string> garbage() {
  auto frame = [](std::string body) {
    std::string out(wire::length_bytes, '\0');
    const auto length = static_cast<std::uint32_t>(body.size());
    for (std::size_t i = 0; i < wire::length_bytes; ++i) out[i] = static_cast<char>(length >> (8 * i));
    return out + body;
  };
  return {frame(std::string(8, '\xff')),                                 // an unknown frame kind
          frame(std::string("\x02\x01\x00\x00\xff\xff\xff", 7)),         // a message cut short
          frame(std::string("\x03\x01\x00\x00\x00\x00\x00\x00\x00", 9))};  // a request with no target
}

void malformed_frames(const subject& s) {
  tally counted;
  world w(s);
  node& b = w.add("server");
  w.serve_on(b, counted);
  node& a = w.add("client");
  const std::string address = b.address().to_string();
  stand_in_host host(w.bed().scheduler());
  auto rogue = w.bed().make_transport();
  rogue->attach(host);
  const auto frames = garbage();
  for (const std::string& f : frames) rogue->send(peer_ref{0, address}, f);
  const auto bad = [&] { return b.stats().bad_frames + static_cast<std::uint64_t>(host.given_back.load()); };
  w.run_until([&] { return bad() >= frames.size(); });
  INFO("the server reported:\n" << w.errors(b).dump() << "the sender of garbage heard:\n" << host.log.dump());
  COACTOR_RULE_CHECK(w.errors(b).size() >= 1);  // the node reported them (or the transport, refusing the peer)
  // Each frame refused by the receiving node (counted in bad_frames), or given back to its sender.
  COACTOR_RULE_CHECK(bad() >= frames.size());
  COACTOR_RULE_CHECK(host.delivered.load() == 0);
  // The server still serves others.
  shared<std::optional<std::string>> reply;
  const process_name to = server_at(b);
  const duration t = w.patience();
  a.spawn([&, to, t](context self) -> process {
    const std::string hello = "after the garbage";
    if (auto r = co_await self.request<std::string>(to, hello, t)) reply.set(*r);
  });
  w.run_until([&] { return reply.get().has_value(); });
  COACTOR_RULE_CHECK(reply.get() == std::optional<std::string>("after the garbage"));
  rogue->shutdown();
}

void after_shutdown(const subject& s) {
  tally counted;
  world w(s);
  node& b = w.add("sender");
  stand_in_host host(w.bed().scheduler());
  auto t = w.bed().make_transport();
  t->attach(host);
  auto bound = t->listen(w.bed().fresh_address("stand-in"));
  REQUIRE(bound);
  host.listened(*bound);
  const process_name there{*bound, "anyone"};
  b.send(there, std::string("before shutdown"));
  w.run_until([&] { return host.delivered.load() > 0; });
  REQUIRE(host.delivered.load() == 1);

  t->shutdown();
  host.shut = true;
  t->send(peer_ref{b.incarnation(), b.address().to_string()}, garbage().front());  // dropped: no host to tell

  // A node that sends to it now hears that it is gone.
  shared<std::optional<error>> failed;
  std::atomic<bool> done{false};
  const duration limit = w.patience();
  b.spawn([&, there, limit](context self) -> process {
    const std::string hello = "after shutdown";
    auto r = co_await self.request<std::string>(there, hello, limit);
    failed.set(r ? std::optional<error>() : std::optional<error>(r.error()));
    done = true;
  });
  w.run_until([&] { return done.load(); });
  const auto why = failed.get();
  INFO("the request ended with: " << code_of(why));
  // (node_down: a transport that detects failures reported the stand-in down while the request waited.)
  COACTOR_RULE_CHECK((why && (*why == errc::unreachable || *why == errc::stopped ||
                              (w.declared().detects_failures && *why == errc::node_down))));
  w.run_until([] { return false; }, 100ms);  // anything late would call the host now
  COACTOR_RULE_CHECK(host.after_shutdown.load() == 0);
}

// ---- failure detection ----

/// Checks what every node of a watched world heard about peers when the subject declares no failure
/// detection: nothing. True if so (the rule then has nothing more to check).
bool undetected(world& w, std::initializer_list<node*> nodes) {
  if (w.declared().detects_failures) return false;
  for (node* n : nodes) {
    INFO(n->name() << " heard:\n" << w.peers(*n)->dump());
    COACTOR_RULE_CHECK(w.peers(*n)->peer_events() == 0);
  }
  return true;
}

/// What holds of every node's peer log, whatever happened: no frame delivered from a peer that is not
/// up, no peer up twice in a row, no peer down that was not up.
void consistent(const peer_log& heard) {
  INFO("heard:\n" << heard.dump());
  COACTOR_RULE_CHECK(heard.delivered_not_up() == 0);
  COACTOR_RULE_CHECK(heard.twice_up() == 0);
  COACTOR_RULE_CHECK(heard.down_not_up() == 0);
}

void peer_up_first(const subject& s) {
  tally counted;
  world w(s, true);
  node& b = w.add("server");
  const pid server = w.serve_on(b, counted);
  node& a = w.add("client");
  const process_name to = server_at(b);
  const duration t = w.patience();
  const int count = w.scaled(200);
  constexpr int senders = 4;  // at once: their first frames may race for the first contact
  shared<std::optional<std::string>> reply;
  for (int k = 0; k < senders; ++k)
    a.spawn([server, count, k](context self) -> process {
      for (int i = 0; i < count; ++i) self.send(server, numbered{k, i});
      co_return;
    });
  a.spawn([&, to, t](context self) -> process {
    const std::string question = "are you there?";
    if (auto r = co_await self.request<std::string>(to, question, t)) reply.set(*r);
  });
  w.run_until([&] { return reply.get().has_value() && counted.received.load() == senders * count; });
  auto at_a = w.peers(a);
  auto at_b = w.peers(b);
  COACTOR_RULE_CHECK(reply.get() == std::optional<std::string>("are you there?"));
  COACTOR_RULE_CHECK(counted.received.load() == senders * count);
  if (undetected(w, {&a, &b})) return;
  INFO("the client heard:\n" << at_a->dump() << "the server heard:\n" << at_b->dump());
  COACTOR_RULE_CHECK(at_b->count(peer_log::what::up, a.incarnation()) == 1);  // the client, before its frames
  COACTOR_RULE_CHECK(at_a->count(peer_log::what::up, b.incarnation()) == 1);  // the server, before its reply
  COACTOR_RULE_CHECK(at_a->deliveries() > 0);
  consistent(*at_a);
  consistent(*at_b);
}

void peer_down_once(const subject& s) {
  tally counted;
  world w(s, true);
  node& b = w.add("server");
  const pid server = w.serve_on(b, counted);
  const std::uint64_t gone = b.incarnation();
  node& a = w.add("client");
  const process_name to = server_at(b);
  const duration t = w.patience();
  const int count = w.scaled(500);
  std::atomic<int> step{0};
  const pid client = a.spawn([&, server, to, t, count](context self) -> process {
    const std::string question = "are you there?";
    static_cast<void>(co_await self.request<std::string>(to, question, t));  // both have met
    for (int i = 0; i < count; ++i) self.send(server, numbered{0, i});  // some still held when it goes
    step = 1;
    static_cast<void>(co_await self.receive<int>());  // the server is gone now
    self.send(server, numbered{0, -1});  // a transport that learns of it only by sending learns it now
    step = 2;
    static_cast<void>(co_await self.receive<int>());
  });
  REQUIRE(w.run_until([&] { return step.load() == 1; }));
  auto heard = w.peers(a);
  const time_point removed = w.bed().scheduler().now();
  w.remove(b);
  a.send(client, 1);
  const duration bound = (w.declared().detection_time + 2s) * s.slowdown;
  w.run_until([&] { return step.load() == 2 && heard->count(peer_log::what::down, gone) > 0; }, bound);
  w.run_until([] { return false; }, 300ms * s.slowdown);  // anything late would come now
  if (undetected(w, {&a})) return;
  INFO("the client heard:\n" << heard->dump());
  COACTOR_RULE_CHECK(heard->count(peer_log::what::up, gone) == 1);
  COACTOR_RULE_CHECK(heard->count(peer_log::what::down, gone) == 1);  // once
  consistent(*heard);
  // In time, and after every frame for it that was held then: a frame sent before the peer_down and
  // given back after it was held through it.
  const auto events = heard->events();
  const auto down = std::find_if(events.begin(), events.end(), [&](const peer_log::event& e) {
    return e.kind == peer_log::what::down && e.incarnation == gone;
  });
  REQUIRE(down != events.end());
  INFO("reported down " << std::chrono::duration_cast<std::chrono::milliseconds>(down->at - removed).count()
                        << "ms after it went; declared at most "
                        << std::chrono::duration_cast<std::chrono::milliseconds>(w.declared().detection_time).count() << "ms");
  COACTOR_RULE_CHECK(down->at - removed <= bound);
  std::set<std::string> sent_before;
  for (auto e = events.begin(); e != down; ++e)
    if (e->kind == peer_log::what::sent && e->incarnation == gone) sent_before.insert(e->frame);
  int given_back_late = 0;
  for (auto e = down; e != events.end(); ++e)
    if (e->kind == peer_log::what::given_back && sent_before.count(e->frame)) ++given_back_late;
  COACTOR_RULE_CHECK(given_back_late == 0);
}

void peer_restarted(const subject& s) {
  tally counted;
  world w(s, true);
  node& b = w.add("server");
  w.serve_on(b, counted);
  const std::string address = b.address().to_string();
  const std::uint64_t old = b.incarnation();
  node& a = w.add("client");
  static_cast<void>(ask_for_pid<who>(w, a, b));
  w.remove(b);
  node& again = w.add("server", true, address);  // a new incarnation at the same address
  REQUIRE(again.address().to_string() == address);
  w.serve_on(again, counted);
  // (A request may go to the old incarnation as it goes, and fail: asked again. It is the contact that
  // matters here.)
  static_cast<void>(ask_for_pid<who>(w, a, again, 5));
  auto heard = w.peers(a);
  const std::uint64_t now = again.incarnation();
  w.run_until([&] { return heard->count(peer_log::what::down, old) > 0; }, (w.declared().detection_time + 2s));
  if (undetected(w, {&a, &again})) return;
  INFO("the client heard (" << old << " before the restart, " << now << " after):\n" << heard->dump());
  COACTOR_RULE_CHECK(heard->count(peer_log::what::down, old) == 1);
  COACTOR_RULE_CHECK(heard->count(peer_log::what::up, now) == 1);
  const auto events = heard->events();
  auto index = [&](peer_log::what kind, std::uint64_t incarnation) {
    return std::find_if(events.begin(), events.end(),
                        [&](const peer_log::event& e) { return e.kind == kind && e.incarnation == incarnation; }) -
           events.begin();
  };
  COACTOR_RULE_CHECK(index(peer_log::what::down, old) < index(peer_log::what::up, now));  // the old one first
  consistent(*heard);
}

void listen_after_shutdown(const subject& s) {
  world w(s);
  stand_in_host host(w.bed().scheduler());
  auto t = w.bed().make_transport();
  t->attach(host);
  REQUIRE(t->listen(w.bed().fresh_address("stand-in")));
  t->shutdown();
  auto again = t->listen(w.bed().fresh_address("stand-in"));
  INFO("listen after shutdown: " << (again ? "bound " + again->to_string() : again.error().message()));
  COACTOR_RULE_CHECK(!again);
}

}  // namespace

std::unique_ptr<bed> threaded_bed(std::function<std::unique_ptr<transport>()> make, std::string host, unsigned threads) {
  return std::make_unique<threaded>(std::move(make), std::move(host), threads);
}

namespace {

/// The rules, by id (what subject::known_violations names) and title (the SECTION's name).
struct rule {
  const char* id;
  std::string title;
  void (*run)(const subject&);
};

std::vector<rule> rules_for(const declared_properties& p) {
  return {
      {"request_reply", "request and reply, by registered name and by pid; an error reply is the requester's error",
       request_and_reply},
      {"order", p.ordered ? "messages from one process to another arrive, in the order sent"
                          : "messages from one process to another all arrive (declared unordered)",
       order_per_sender},
      {"concurrent_senders", p.ordered ? "16 senders at once: every message arrives, in each sender's order"
                                       : "16 senders at once: every message arrives (declared unordered)",
       concurrent_senders},
      {"pid_across_nodes", "a pid of a third node, passed in a message, reaches it", pid_across_three_nodes},
      {"not_listening", p.reaches_nodes_that_do_not_listen
                            ? "a node that does not listen gets its replies"
                            : "a reply to a node that does not listen is reported unreachable (declared)",
       reaches_nodes_that_do_not_listen},
      {"unreachable", "undeliverable: a node nobody listens at is errc::unreachable", unreachable_node},
      {"no_such_name", "undeliverable: an unknown registered name is errc::no_such_name", unknown_name},
      {"dead_pid", "undeliverable: a dead pid is errc::dead_process", dead_pid_},
      {"stale_incarnation", "undeliverable: a pid of an earlier incarnation at the same address is errc::dead_process (or node_down, when the transport reports that incarnation down first)",
       stale_incarnation},
      {"large_frame", "a frame of 4 MiB arrives intact", large_frames},
      {"over_the_limit", "a frame over the size limit is reported to its sender, and the nodes live on", over_the_limit},
      {"shutdown_in_flight", "shutdown with frames in flight: each is delivered or reported", shutdown_with_frames_in_flight},
      {"malformed_frames", "a peer's malformed frames are reported, and the node keeps serving others", malformed_frames},
      {"after_shutdown", "after shutdown: nothing calls the host, and senders hear the node is gone", after_shutdown},
      {"listen_after_shutdown", "listen after shutdown fails", listen_after_shutdown},
      {"peer_up", p.detects_failures ? "failure detection: a peer is reported up before the first frame from it is delivered"
                                     : "no failure detection (declared): no peer is reported up",
       peer_up_first},
      {"peer_down", p.detects_failures
                        ? "failure detection: a peer that shuts down is reported down, once, after its held frames were given back"
                        : "no failure detection (declared): no peer is reported down",
       peer_down_once},
      {"peer_restarted", p.detects_failures
                             ? "failure detection: a peer restarted at its address is reported down before its new incarnation up"
                             : "no failure detection (declared): a restart is not reported",
       peer_restarted},
  };
}

}  // namespace

std::vector<std::string> rule_ids() {
  std::vector<std::string> ids;
  for (const rule& r : rules_for({})) ids.emplace_back(r.id);
  return ids;
}

void check(const subject& s) {
  INFO("transport: " << s.name);
  REQUIRE((s.make || s.make_bed));
  const auto rules = rules_for(s.properties);
  for (const std::string& id : s.known_violations) {
    INFO("known_violations names '" << id << "', which is no rule");
    CHECK(std::any_of(rules.begin(), rules.end(), [&](const rule& r) { return id == r.id; }));
  }
  for (const rule& r : rules) {
    SECTION(r.title) {
      tolerated = std::find(s.known_violations.begin(), s.known_violations.end(), r.id) != s.known_violations.end();
      violated = false;
      struct reset {
        ~reset() { tolerated = false; }
      } at_exit;  // also when a REQUIRE ends the rule
      if (tolerated) WARN(s.name << " is declared to break rule '" << r.id << "': its failures below do not fail the test");
      r.run(s);
      if (tolerated && !violated) WARN(s.name << " kept rule '" << r.id << "' this time, though declared to break it");
    }
  }
}

}  // namespace coactor::conformance
