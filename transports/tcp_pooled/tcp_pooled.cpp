// tcp_pooled's connection policy: the peer table, which connection a frame goes on, and what happens to
// frames when a connection does not work out. The connections themselves are the core's
// (tcp/transport_core.hpp): it opens them for us, reads them, says bye when idle, reports refusals.
//
// State: what is below `mutex_` is guarded by it. The core's events arrive on each connection's strand
// and take the mutex for the table; host calls are made without it (a delivery may send, and sending
// takes it).
#include <coactor/transports/tcp/transport_core.hpp>
#include <coactor/transports/tcp_pooled.hpp>

#include <map>
#include <mutex>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace coactor {
namespace {

struct peer;

/// One connection as the pooled policy sees it.
struct channel {
  std::shared_ptr<tcp::connection> conn;  // null while connecting
  std::shared_ptr<peer> owner;            // the peer whose frames it carries; null once it closed
  bool outbound = false;                  // this node opened it
  bool open = false;                      // the handshake is done and frames may be given to it
  std::size_t retried_given = 0;          // the first frames given to it were already retries
  std::string target;                     // for messages: the address dialled, or the peer's
};

/// Another node, as far as sending to it goes.
struct peer {
  std::string address;                // where it listens; empty if it does not
  std::uint64_t incarnation = 0;      // 0 until a hello told it
  std::shared_ptr<channel> sending;   // the connection its frames go on (connecting, open or closing)
  tcp::frame_queue waiting;           // frames while no connection takes them
  std::size_t waiting_retried = 0;    // the first frames of `waiting` are retries (their second try)

  std::string describe() const {
    if (!address.empty()) return address;
    return "node " + std::to_string(incarnation) + " (which does not listen)";
  }
};

const error& shut_down() {
  static const error e(errc::stopped, "the transport shut down");
  return e;
}

class pooled_policy final : public tcp::connection_policy {
 public:
  pooled_policy(tcp::transport_core& core, const tcp_pooled_options& options) : core_(core), options_(options) {}

  wire::connection_mode mode() const noexcept override { return wire::connection_mode::pooled; }
  bool sends_on_accepted() const noexcept override { return true; }

  // A connection being closed (the peer's bye, or idle) takes no more frames (connection::send is false):
  // they wait, and once it has closed go on a new connection, so nothing written on the old one is
  // overtaken.
  void send(const peer_ref& ref, std::string_view frame) override {
    error why{std::error_code{}};
    bool held = false;
    {
      std::lock_guard lock(mutex_);
      std::shared_ptr<peer> p = stopped_ ? nullptr : find_peer(ref);
      if (stopped_) {
        why = shut_down();
      } else if (!p) {
        why = error(errc::unreachable, "node " + std::to_string(ref.incarnation) +
                                           " does not listen and has no connection to this node");
      } else {
        // Held before the frame is handed on: its write may complete on another thread at once.
        held = core_.link().hold(1);
        if (p->sending && p->sending->open && p->sending->conn->send(frame)) return;
        if (p->sending) {  // being opened, or closing: the next one opens after it
          p->waiting.append(frame);
          return;
        }
        if (!p->address.empty()) {
          p->waiting.append(frame);
          return connect(p);
        }
        // A peer that does not listen, and whose connection to this node has gone (frames wait only
        // while a connection exists, so nothing else is queued for it).
        forget_if_unused(p);
        why = error(errc::unreachable, p->describe() + " has no connection to this node");
      }
    }
    core_.link().call([&](transport_host& host) { host.undeliverable(frame, why); });
    if (held) core_.link().release(1);
  }

  void opened(tcp::connection& conn, const wire::hello& hello, bool accepted) override {
    std::lock_guard lock(mutex_);
    if (stopped_) return;
    if (!accepted) {
      auto it = channels_.find(&conn);
      if (it == channels_.end() || !it->second->owner) return;
      channel& ch = *it->second;
      merge_peer(hello.node, ch.owner);
      ch.open = true;
      ch.retried_given = ch.owner->waiting_retried;
      if (conn.send(ch.owner->waiting)) ch.owner->waiting_retried = 0;  // else it is closing already: closed() sees them
      return;
    }
    std::shared_ptr<peer> p = merge_peer(hello.node, nullptr);
    if (p->sending) return;
    // Send back to the peer on the connection it opened.
    auto ch = std::make_shared<channel>();
    ch->conn = conn.shared_from_this();
    ch->owner = p;
    ch->open = true;
    ch->target = hello.node.address.empty() ? conn.remote() : hello.node.address;
    p->sending = ch;
    channels_.emplace(&conn, std::move(ch));
  }

  void closed(tcp::connection& conn, tcp::connection_end& end) override {
    tcp::frame_queue lost;
    std::shared_ptr<channel> ch;
    std::shared_ptr<peer> p;
    std::string who;
    error lost_why = shut_down();
    {
      std::lock_guard lock(mutex_);
      if (auto it = channels_.find(&conn); it != channels_.end()) {
        ch = std::move(it->second);
        channels_.erase(it);
        p = std::exchange(ch->owner, nullptr);
        ch->open = false;
        ch->conn = nullptr;
      }
      if (stopped_ || !p) {
        lost = std::move(end.unwritten);  // nothing was given to a connection we did not know, unless stopped
      } else {
        who = p->describe();
        lost_why = error(errc::unreachable, ch->target + ": " + (end.why.code() ? end.why.detail() : "connection closed"));
        if (p->sending == ch) p->sending = nullptr;
        // Frames given to this connection and not written: a second try on a new connection, except
        // for those that were already on their second.
        const std::size_t already = ch->retried_given > end.written ? ch->retried_given - end.written : 0;
        end.unwritten.split_front(already, lost);
        const std::size_t retry = end.unwritten.frames();
        p->waiting.prepend(std::move(end.unwritten));
        p->waiting_retried += retry;
        if (ch->outbound && !end.opened) {
          // The handshake failed (refused, timed out, not coactor): as for a failed connect.
          lost.append(std::move(p->waiting));
          p->waiting.clear();
          p->waiting_retried = 0;
        }
        if (!p->waiting.empty() && !p->sending) {
          if (!p->address.empty()) {
            connect(p);
          } else {
            lost.append(std::move(p->waiting));
            p->waiting.clear();
            p->waiting_retried = 0;
            lost_why = error(errc::unreachable, p->describe() + ": its connection to this node closed" +
                                                    (end.why.code() ? " (" + end.why.detail() + ")" : std::string()));
          }
        }
        forget_if_unused(p);
      }
    }
    if (!who.empty() && !end.graceful && end.opened && end.written > 0 && !end.clean_eof)
      core_.report(error(errc::unreachable, "tcp_pooled: the connection to " + who + " broke (" +
                                                end.why.detail() + "); of the " + std::to_string(end.written) +
                                                " frame(s) written on it, any the peer had not read yet are lost"));
    core_.give_up(lost, lost_why);
  }

  void stop() override {
    std::vector<std::shared_ptr<tcp::connection>> conns;
    tcp::frame_queue lost;
    {
      std::lock_guard lock(mutex_);
      stopped_ = true;
      std::unordered_set<peer*> seen;
      auto drain = [&](const std::shared_ptr<peer>& p) {
        if (!seen.insert(p.get()).second) return;
        lost.append(std::move(p->waiting));
        p->waiting.clear();
        p->sending = nullptr;
      };
      for (auto& [address, p] : by_address_) drain(p);
      for (auto& [incarnation, p] : by_incarnation_) drain(p);
      for (auto& [conn, ch] : channels_) {
        conns.push_back(ch->conn);
        ch->owner = nullptr;
      }
      channels_.clear();
      by_address_.clear();
      by_incarnation_.clear();
    }
    for (auto& conn : conns) lost.append(conn->abort());
    core_.give_up(lost, shut_down());
  }

 private:
  // ---- the peer table (mutex held) ----

  std::shared_ptr<peer> find_peer(const peer_ref& ref) {
    if (ref.incarnation != 0)
      if (auto it = by_incarnation_.find(ref.incarnation); it != by_incarnation_.end()) return it->second;
    if (ref.address.empty()) return nullptr;
    if (auto it = by_address_.find(ref.address); it != by_address_.end()) return it->second;
    auto p = std::make_shared<peer>();
    p->address = std::string(ref.address);
    by_address_.emplace(p->address, p);
    return p;
  }

  /// The peer a hello introduces (an accepted connection's, or for `known`, one this node opened).
  std::shared_ptr<peer> merge_peer(const node_identity& node, std::shared_ptr<peer> known) {
    std::shared_ptr<peer> p = std::move(known);
    if (!p)
      if (auto it = by_incarnation_.find(node.incarnation); it != by_incarnation_.end()) p = it->second;
    if (!p && !node.address.empty())
      if (auto it = by_address_.find(node.address); it != by_address_.end())
        if (it->second->incarnation == 0 || it->second->incarnation == node.incarnation) p = it->second;
    if (!p) {
      // New, or a new incarnation at a known address: this one takes the address (the previous one stays
      // reachable by its incarnation until its connection closes).
      p = std::make_shared<peer>();
      p->address = node.address;
      if (!p->address.empty()) by_address_[p->address] = p;
    }
    if (p->incarnation != node.incarnation) {
      if (auto it = by_incarnation_.find(p->incarnation); it != by_incarnation_.end() && it->second == p)
        by_incarnation_.erase(it);
      p->incarnation = node.incarnation;
    }
    by_incarnation_[p->incarnation] = p;
    if (p->address.empty() && !node.address.empty()) {
      p->address = node.address;
      by_address_[p->address] = p;
    }
    return p;
  }

  void forget_if_unused(const std::shared_ptr<peer>& p) {
    if (p->sending || !p->waiting.empty()) return;
    if (auto it = by_address_.find(p->address); it != by_address_.end() && it->second == p) by_address_.erase(it);
    if (auto it = by_incarnation_.find(p->incarnation); it != by_incarnation_.end() && it->second == p)
      by_incarnation_.erase(it);
  }

  /// Starts a connection for `p` (which has an address and no connection).
  void connect(const std::shared_ptr<peer>& p) {
    auto ch = std::make_shared<channel>();
    ch->owner = p;
    ch->outbound = true;
    ch->target = p->address;
    p->sending = ch;
    auto ex = asio::make_strand(core_.io());
    tcp::async_connect(ex, p->address, options_.connect_timeout,
                       [w = core_.weak_from_this(), this, ch, ex](result<tcp::socket> s) {
                         if (auto core = w.lock()) connected(ch, ex, std::move(s));  // the core owns this policy
                       });
  }

  // ---- connecting ----

  void connected(const std::shared_ptr<channel>& ch, const tcp::strand& ex, result<tcp::socket> s) {
    if (!s) return connect_failed(ch, s.error());
    std::shared_ptr<tcp::connection> conn = core_.open(std::move(*s), ex);
    if (!conn) return;  // shut down
    {
      std::lock_guard lock(mutex_);
      if (stopped_ || !ch->owner) return;  // the core closes it
      ch->conn = conn;
      channels_.emplace(conn.get(), ch);
    }
    core_.start(*conn);
  }

  void connect_failed(const std::shared_ptr<channel>& ch, const error& why) {
    tcp::frame_queue lost;
    {
      std::lock_guard lock(mutex_);
      std::shared_ptr<peer> p = std::exchange(ch->owner, nullptr);
      if (!p || p->sending != ch) return;
      p->sending = nullptr;
      lost = std::move(p->waiting);
      p->waiting.clear();
      p->waiting_retried = 0;
      forget_if_unused(p);
    }
    core_.give_up(lost, error(errc::unreachable, why.detail()));
  }

  tcp::transport_core& core_;  // owns this policy
  const tcp_pooled_options options_;

  std::mutex mutex_;
  bool stopped_ = false;
  std::map<std::string, std::shared_ptr<peer>, std::less<>> by_address_;
  std::unordered_map<std::uint64_t, std::shared_ptr<peer>> by_incarnation_;
  std::unordered_map<const tcp::connection*, std::shared_ptr<channel>> channels_;  // those with a connection
};

}  // namespace

tcp_pooled_transport::tcp_pooled_transport(tcp_pooled_options options)
    : tcp::transport(tcp::transport_core::make<pooled_policy>("tcp_pooled",
                                                              {.handshake_timeout = options.connect_timeout,
                                                               .close_timeout = options.connect_timeout,
                                                               .idle_timeout = options.idle_timeout,
                                                               .max_batch_bytes = options.max_batch_bytes},
                                                              options)) {}

}  // namespace coactor
