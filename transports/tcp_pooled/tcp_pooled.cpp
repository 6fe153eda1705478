// tcp_pooled's connection policy: the peer table, which connection a frame goes on, and what happens to
// frames when a connection does not work out. The connections themselves are the core's
// (tcp/transport_core.hpp): it opens them for us, reads them, says bye when idle, reports refusals.
//
// Failure detection (the core reports up and down, transport_core.hpp): a peer incarnation that was up
// and loses its connection (broken, or closed while it does not listen), or whose new connection fails,
// gets peer_timeout to have one again: this node dials it again meanwhile (from at once, backing off up
// to a quarter of the timeout), or waits for a peer that does not listen to dial back, and frames for it
// wait. Then the core is told it is lost: it takes back what is held for it (forget) and reports it down.
// A graceful close (idle) of a listening peer's connection is no failure: the next frame dials again.
//
// Sequenced streams (both hellos say "sequenced"; transport_core.hpp has the receiving side): this node
// numbers the data frames it gives a peer's connections, as one stream per peer incarnation, and keeps
// each until the peer acknowledges it (a received frame). A connection starts with a resume frame
// saying the number of its first frame. When a connection ends, whatever the reason, every frame not
// acknowledged goes back in front of the waiting ones, and the next connection resumes the stream at the
// first of them: the peer drops those it had delivered already. So while both nodes are up nothing is
// lost or duplicated, and what is lost when the peer goes down is known frame by frame (forget() gives
// back every frame not acknowledged). With a peer that does not number (an older node), a frame counts
// as delivered once written, and only the frames not written are sent again.
//
// State: what is below `mutex_` is guarded by it. The core's events arrive on each connection's strand
// and take the mutex for the table; host calls are made without it (a delivery may send, and sending
// takes it), and so are the core's peer events.
#include <coactor/transports/tcp/transport_core.hpp>
#include <coactor/transports/tcp_pooled.hpp>

#include <algorithm>
#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <stdexcept>
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
  bool sequenced = false;                 // it carries the peer's stream (set when open)
  std::string target;                     // for messages: the address dialled, or the peer's
};

/// Another node, as far as sending to it goes.
struct peer {
  std::string address;                // where it listens; empty if it does not
  std::uint64_t incarnation = 0;      // 0 until a hello told it
  std::string name;                   // as its hello said
  std::shared_ptr<channel> sending;   // the connection its frames go on (connecting, open or closing)
  tcp::frame_queue waiting;           // frames while no connection takes them
  // The stream to it (sequenced channels): its frames up to `acked` were acknowledged; `unacked` holds
  // those given to `sending` since (numbers acked+1, ...), and `waiting` goes on from there.
  std::uint64_t stream = 0;           // unique in this transport, never reused
  std::uint64_t acked = 0;
  tcp::frame_queue unacked;
  // peer_stats
  std::uint64_t sent = 0, delivered = 0, failed = 0;
  bool wants_room = false;  // found full (has_room, or a frame refused): the host hears when it is not
  // Up, without a working connection since a failure: it has until `deadline` to get one.
  bool reconnecting = false;
  std::chrono::steady_clock::time_point deadline;
  duration backoff{};                         // before the next dial after a failed one
  std::unique_ptr<asio::steady_timer> timer;  // the next dial, or the deadline

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
      } else if (!fits(*p, frame.size())) {
        p->wants_room = true;
        ++p->sent;
        ++p->failed;
        why = error(errc::queue_full, "tcp_pooled: the queue for " + p->describe() + " is full (" +
                                          std::to_string(queued_frames(*p)) + " frames, " + std::to_string(queued_bytes(*p)) +
                                          " bytes; tcp_pooled_options::max_queued_frames, max_queued_bytes)");
      } else {
        // Held before the frame is handed on: its write may complete on another thread at once.
        held = core_.link().hold(1);
        if (p->sending && p->sending->open && give(*p, *p->sending, frame)) {
          ++p->sent;
          return;
        }
        if (p->sending || p->reconnecting) {  // being opened, closing, or to be again: it waits for one
          p->waiting.append(frame);
          ++p->sent;
          return;
        }
        if (!p->address.empty()) {
          p->waiting.append(frame);
          ++p->sent;
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
      give_waiting(ch);
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
    channels_.emplace(&conn, ch);
    give_waiting(*ch);  // a peer that does not listen, back within its time
  }

  void closed(tcp::connection& conn, tcp::connection_end& end) override {
    tcp::frame_queue lost;
    std::shared_ptr<channel> ch;
    std::shared_ptr<peer> p;
    std::string who;
    error lost_why = shut_down();
    std::uint64_t gone = 0;       // an incarnation out of time
    std::size_t copies = 0;       // frames handed back that are also kept unacknowledged: their work goes
    bool unconfirmed = false;     // frames written without acknowledgements, on a connection that broke
    std::optional<node_identity> roomy;
    {
      std::lock_guard lock(mutex_);
      bool was_open = false;
      if (auto it = channels_.find(&conn); it != channels_.end()) {
        ch = std::move(it->second);
        channels_.erase(it);
        p = std::exchange(ch->owner, nullptr);
        was_open = std::exchange(ch->open, false);
        ch->conn = nullptr;
      }
      if (stopped_ || !p) {
        lost = std::move(end.unwritten);  // nothing was given to a connection we did not know, unless stopped
      } else {
        who = p->describe();
        lost_why = error(errc::unreachable, ch->target + ": " + (end.why.code() ? end.why.detail() : "connection closed"));
        const bool carrying = p->sending == ch;  // p's frames went on it
        if (carrying) p->sending = nullptr;
        if (ch->sequenced) {
          // Every frame not acknowledged goes again, first, on the next connection (the peer drops what
          // it had already). Those the connection hands back are copies of some of them.
          copies = end.unwritten.frames();
          if (carrying) requeue_unacked(*p);
        } else if (was_open) {
          // Without acknowledgements: the frames not written go again; the written ones are gone.
          p->delivered -= end.unwritten.frames();
          p->waiting.prepend(std::move(end.unwritten));
          unconfirmed = !end.graceful && end.opened && end.written > 0 && !end.clean_eof;
        } else {
          p->waiting.prepend(std::move(end.unwritten));  // (nothing is given before it is open)
        }
        // An incarnation that was up: a connection that broke, or the only way to a peer that does not
        // listen, is to be had again within its time (a graceful close of a listening peer's is not a
        // failure: the next frame dials again).
        const bool failed = !end.graceful || p->address.empty() || (ch->outbound && !end.opened);
        if (p->incarnation != 0 && failed && !p->sending) gone = lose(p, end.why);
        if (gone) {
          // (too late already: the core takes what waits)
        } else if (ch->outbound && !end.opened && !p->reconnecting) {
          // The handshake failed (refused, timed out, not coactor): as for a failed connect.
          lost.append(std::move(p->waiting));
          p->waiting.clear();
        }
        if (gone || p->reconnecting) {
          // dialled again by lose() or its timer
        } else if (!p->waiting.empty() && !p->sending) {
          if (!p->address.empty()) {
            connect(p);
          } else {
            lost.append(std::move(p->waiting));
            p->waiting.clear();
            lost_why = error(errc::unreachable, p->describe() + ": its connection to this node closed" +
                                                    (end.why.code() ? " (" + end.why.detail() + ")" : std::string()));
          }
        }
        p->failed += lost.frames();
        roomy = room_again(*p);
        forget_if_unused(p);
      }
    }
    core_.link().release(copies);
    if (roomy) tell_room(*roomy);
    if (unconfirmed)
      core_.report(error(errc::unreachable, "tcp_pooled: the connection to " + who + " broke (" +
                                                end.why.detail() + "); of the " + std::to_string(end.written) +
                                                " frame(s) written on it, any the peer had not read yet are lost"));
    core_.give_up(lost, lost_why);
    if (gone) core_.peer_lost(gone, out_of_time(who, end.why));
  }

  tcp::frame_queue forget(const node_identity& node) override {
    std::vector<std::shared_ptr<tcp::connection>> open, opening;
    tcp::frame_queue waiting, unacked;
    std::shared_ptr<peer> gone;
    {
      std::lock_guard lock(mutex_);
      auto it = by_incarnation_.find(node.incarnation);
      if (stopped_ || it == by_incarnation_.end()) return {};
      std::shared_ptr<peer> p = it->second;
      for (auto c = channels_.begin(); c != channels_.end();) {
        if (c->second->owner != p) {
          ++c;
          continue;
        }
        (c->second->open ? open : opening).push_back(c->second->conn);
        c->second->owner = nullptr;
        c = channels_.erase(c);
      }
      if (p->sending) p->sending->owner = nullptr;  // still connecting: dropped when it is done
      p->sending = nullptr;
      stop_reconnecting(*p);
      unacked = std::move(p->unacked);  // written or not: not known delivered
      p->unacked.clear();
      waiting = std::move(p->waiting);
      p->waiting.clear();
      gone = p;
      unlist(*p);  // frames sent from now on go to a new peer (a new stream, should it come back)
    }
    // Frames given to its connections came before those still waiting. Those for its processes go back;
    // those for a registered name are for its address, whoever is there now (a restart): dialled again.
    tcp::frame_queue all, held, named;
    std::size_t copies = 0;
    for (auto& conn : open) {
      if (conn->sequenced()) {
        copies += conn->abort().frames();  // (copies of frames in `unacked`, and resume frames)
      } else {
        tcp::frame_queue unwritten = conn->abort();
        std::lock_guard lock(mutex_);
        gone->delivered -= unwritten.frames();
        all.append(std::move(unwritten));
      }
    }
    core_.link().release(copies);
    if (!unacked.empty()) {
      core_.link().hold(unacked.frames());  // given back (and released) with the others
      all.prepend(std::move(unacked));
    }
    all.append(std::move(waiting));
    for (auto& conn : opening) conn->close(error(errc::node_down, node.address + " is down"));
    all.for_each([&](std::string_view f) {
      (wire::target_incarnation(f) == 0 && !node.address.empty() ? named : held).append(f);
    });
    std::lock_guard lock(mutex_);
    if (!named.empty()) {
      if (stopped_) {
        held.append(std::move(named));
      } else {
        std::shared_ptr<peer> there = find_peer(peer_ref{0, node.address});
        gone->sent -= named.frames();  // they are the new incarnation's now
        there->sent += named.frames();
        there->waiting.append(std::move(named));
        if (there->sending && there->sending->open)
          give_waiting(*there->sending);
        else if (!there->sending && !there->reconnecting)
          connect(there);
      }
    }
    gone->failed += held.frames();  // (the core gives them back)
    retire(*gone);
    return held;
  }

  void stop() override {
    std::vector<std::pair<std::shared_ptr<tcp::connection>, std::shared_ptr<channel>>> conns;
    tcp::frame_queue lost;
    {
      std::lock_guard lock(mutex_);
      stopped_ = true;
      std::unordered_set<peer*> seen;
      auto drain = [&](const std::shared_ptr<peer>& p) {
        if (!seen.insert(p.get()).second) return;
        p->failed += p->waiting.frames();
        lost.append(std::move(p->waiting));
        p->waiting.clear();
        p->sending = nullptr;
        stop_reconnecting(*p);
      };
      for (auto& [address, p] : by_address_) drain(p);
      for (auto& [incarnation, p] : by_incarnation_) drain(p);
      for (auto& [conn, ch] : channels_) conns.emplace_back(ch->conn, ch);
      channels_.clear();
      by_address_.clear();
      by_incarnation_.clear();
    }
    // Frames given to a connection and not written are given back. Those written and not acknowledged
    // may or may not have arrived: they stay counted in flight (peer_stats).
    std::size_t resumes = 0;
    for (auto& [conn, ch] : conns) {
      tcp::frame_queue unwritten = conn->abort();
      std::lock_guard lock(mutex_);
      if (ch->sequenced) resumes += only_data(unwritten);
      if (std::shared_ptr<peer> p = std::exchange(ch->owner, nullptr)) {
        p->failed += unwritten.frames();
        if (!ch->sequenced) p->delivered -= unwritten.frames();
        retire(*p);
      }
      lost.append(std::move(unwritten));
    }
    {
      std::lock_guard lock(mutex_);
      const auto all = live_;
      for (const auto& [raw, p] : all) retire(*p);
    }
    core_.link().release(resumes);
    core_.give_up(lost, shut_down());
  }

  bool has_room(const peer_ref& ref) override {
    std::lock_guard lock(mutex_);
    std::shared_ptr<peer> p;
    if (ref.incarnation != 0)
      if (auto it = by_incarnation_.find(ref.incarnation); it != by_incarnation_.end()) p = it->second;
    if (!p && !ref.address.empty())
      if (auto it = by_address_.find(ref.address); it != by_address_.end()) p = it->second;
    if (!p || stopped_ || fits(*p, 0)) return true;
    p->wants_room = true;
    return false;
  }

  void acknowledged(const node_identity& node, wire::stream_position at) override {
    std::size_t released = 0;
    std::optional<node_identity> roomy;
    {
      std::lock_guard lock(mutex_);
      auto it = by_incarnation_.find(node.incarnation);
      if (stopped_ || it == by_incarnation_.end()) return;
      peer& p = *it->second;
      if (at.stream != p.stream || at.seq <= p.acked) return;  // an older stream's, or known already
      std::uint64_t n = at.seq - p.acked;
      std::uint64_t done = p.unacked.drop_front(n);
      if (done < n) {  // frames given again after a connection ended: they wait in front of the others
        released = p.waiting.drop_front(n - done);
        done += released;
      }
      p.acked += done;
      p.delivered += done;
      roomy = room_again(p);
    }
    core_.link().release(released);
    if (roomy) tell_room(*roomy);
  }

  std::vector<peer_stats> peers() const override {
    std::lock_guard lock(mutex_);
    std::vector<peer_stats> all;
    auto add = [&](const peer_stats& one) {
      for (peer_stats& p : all)
        if (p.peer.incarnation == one.peer.incarnation && (one.peer.incarnation != 0 || p.peer.address == one.peer.address)) {
          p.sent += one.sent;
          p.delivered += one.delivered;
          p.failed += one.failed;
          return;
        }
      all.push_back(one);
    };
    for (const auto& [key, r] : retired_) add(r);
    for (const auto& [raw, p] : live_) add(stats_of(*p));
    return all;
  }

 private:
  // ---- the peer table (mutex held) ----

  std::shared_ptr<peer> find_peer(const peer_ref& ref) {
    if (ref.incarnation != 0)
      if (auto it = by_incarnation_.find(ref.incarnation); it != by_incarnation_.end()) return it->second;
    if (ref.address.empty()) return nullptr;
    if (auto it = by_address_.find(ref.address); it != by_address_.end()) return it->second;
    auto p = make_peer(std::string(ref.address));
    by_address_.emplace(p->address, p);
    return p;
  }

  std::shared_ptr<peer> make_peer(std::string address) {
    auto p = std::make_shared<peer>();
    p->address = std::move(address);
    p->stream = ++streams_;
    live_.emplace(p.get(), p);
    return p;
  }

  static peer_stats stats_of(const peer& p) {
    peer_stats s;
    s.peer.incarnation = p.incarnation;
    s.peer.name = p.name;
    s.peer.address = p.address;
    s.sent = p.sent;
    s.delivered = p.delivered;
    s.failed = p.failed;
    s.queued_bytes = queued_bytes(p);
    return s;
  }

  /// Takes `p` out of the peer table (what is still sent to its address or incarnation finds another).
  void unlist(const peer& p) {
    if (auto it = by_address_.find(p.address); it != by_address_.end() && it->second.get() == &p) by_address_.erase(it);
    if (auto it = by_incarnation_.find(p.incarnation); it != by_incarnation_.end() && it->second.get() == &p)
      by_incarnation_.erase(it);
  }

  /// `p` is done with: its counts join those of the peers gone before (peers()). Idempotent.
  void retire(peer& p) {
    if (live_.count(&p) == 0) return;
    const peer_stats mine = stats_of(p);
    peer_stats& r = retired_[{mine.peer.incarnation, mine.peer.incarnation != 0 ? std::string() : mine.peer.address}];
    if (r.peer.incarnation == 0 && r.peer.address.empty()) r.peer = mine.peer;
    r.sent += mine.sent;
    r.delivered += mine.delivered;
    r.failed += mine.failed;
    live_.erase(&p);  // (last: it may hold the last reference to p)
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
      p = make_peer(node.address);
      if (!p->address.empty()) by_address_[p->address] = p;
    }
    if (p->incarnation != node.incarnation) {
      if (auto it = by_incarnation_.find(p->incarnation); it != by_incarnation_.end() && it->second == p)
        by_incarnation_.erase(it);
      if (p->incarnation != 0) {
        // Dialled for one incarnation, answered by another (a restart): what waits goes to the new one,
        // as a stream of its own, and is counted for it.
        p->sent -= p->waiting.frames();
        retire(*p);
        live_.emplace(p.get(), p);
        p->sent = p->waiting.frames();
        p->delivered = p->failed = 0;
        p->stream = ++streams_;
        p->acked = 0;
      }
      p->incarnation = node.incarnation;
      stop_reconnecting(*p);  // a new incarnation: the old one's time was the core's business (restarted)
    }
    p->name = node.name;
    by_incarnation_[p->incarnation] = p;
    if (p->address.empty() && !node.address.empty()) {
      p->address = node.address;
      by_address_[p->address] = p;
    }
    return p;
  }

  /// Drops a peer from the table once nothing is queued or open for it, and, unless `down`, it is not an
  /// incarnation that is up (which the table keeps, to dial it again should its connection fail).
  void forget_if_unused(const std::shared_ptr<peer>& p, bool down = false) {
    if (p->sending || !p->waiting.empty() || !p->unacked.empty() || (p->incarnation != 0 && !down)) return;
    unlist(*p);
    retire(*p);
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
      if (stopped_) return;  // the core closes it
      if (ch->owner) {
        ch->conn = conn;
        channels_.emplace(conn.get(), ch);
      }
    }
    if (!ch->owner) return conn->close(error(errc::stopped, "no longer needed"));  // its peer went down meanwhile
    core_.start(*conn);
  }

  void connect_failed(const std::shared_ptr<channel>& ch, const error& why) {
    tcp::frame_queue lost;
    std::optional<node_identity> roomy;
    std::uint64_t gone = 0;
    std::string who, address;
    {
      std::lock_guard lock(mutex_);
      std::shared_ptr<peer> p = std::exchange(ch->owner, nullptr);
      if (!p || p->sending != ch) return;
      p->sending = nullptr;
      if (p->incarnation != 0) {  // up: it has until its deadline, and frames wait
        who = p->describe();
        gone = lose(p, why);
        if (!gone) return;
      } else {
        lost = std::move(p->waiting);
        p->waiting.clear();
        p->failed += lost.frames();
        roomy = room_again(*p);
        address = p->address;
        forget_if_unused(p);
      }
    }
    if (roomy) tell_room(*roomy);
    core_.give_up(lost, error(errc::unreachable, why.detail()));
    if (gone) core_.peer_lost(gone, out_of_time(who, why));
    // A peer met only on connections it opened (a per-message node's) is found gone by a dial that fails.
    if (!address.empty()) core_.peer_lost_at(address, error(errc::unreachable, why.detail()));
  }

  // ---- an incarnation without a connection (mutex held) ----

  /// `p` (up) has no working connection since `why`: it gets until its deadline for one; the next dial
  /// is due now (the first) or after the backoff. Returns p's incarnation if its time is up.
  std::uint64_t lose(const std::shared_ptr<peer>& p, const error& why) {
    static_cast<void>(why);
    const auto now = std::chrono::steady_clock::now();
    const duration timeout = options_.peer_timeout;
    if (!p->reconnecting) {
      p->reconnecting = true;
      p->deadline = now + std::chrono::duration_cast<std::chrono::steady_clock::duration>(timeout);
      p->backoff = std::min<duration>(std::chrono::milliseconds(50), timeout / 4);
      if (!p->address.empty()) connect(p);  // at once: most breaks are mended by the first dial
      arm(p, p->deadline);
      return 0;
    }
    if (now >= p->deadline) return p->incarnation;
    arm(p, std::min(p->deadline, now + std::chrono::duration_cast<std::chrono::steady_clock::duration>(p->backoff)));
    p->backoff = std::min<duration>(p->backoff * 2, std::max<duration>(p->backoff, timeout / 4));
    return 0;
  }

  void arm(const std::shared_ptr<peer>& p, std::chrono::steady_clock::time_point when) {
    if (!p->timer) p->timer = std::make_unique<asio::steady_timer>(asio::make_strand(core_.io()));
    p->timer->expires_at(when);
    p->timer->async_wait([w = core_.weak_from_this(), this, wp = std::weak_ptr<peer>(p)](const std::error_code& ec) {
      if (ec) return;
      auto core = w.lock();  // the core owns this policy
      if (auto target = wp.lock(); core && target) reconnect_due(target);
    });
  }

  void stop_reconnecting(peer& p) {
    p.reconnecting = false;
    if (p.timer) p.timer->cancel();
  }

  /// The timer of a peer without a connection: dial again, or its time is up.
  void reconnect_due(const std::shared_ptr<peer>& p) {
    std::uint64_t gone = 0;
    std::string who;
    {
      std::lock_guard lock(mutex_);
      if (stopped_ || !p->reconnecting) return;
      if (p->sending && p->sending->open) return stop_reconnecting(*p);
      if (std::chrono::steady_clock::now() >= p->deadline) {
        gone = p->incarnation;
        who = p->describe();
      } else {
        if (!p->sending && !p->address.empty()) connect(p);
        arm(p, p->deadline);
      }
    }
    if (gone) core_.peer_lost(gone, out_of_time(who, error(errc::unreachable, "no connection")));
  }

  error out_of_time(const std::string& who, const error& last) const {
    return error(errc::unreachable, "no connection to " + who + " again within " + tcp::milliseconds(options_.peer_timeout) +
                                        (last.code() ? " (" + last.detail() + ")" : std::string()));
  }

  // ---- the bound of a peer's queue (mutex held, but tell_room) ----

  static std::size_t queued_frames(const peer& p) { return p.waiting.frames() + p.unacked.frames(); }
  static std::size_t queued_bytes(const peer& p) { return p.waiting.bytes() + p.unacked.bytes(); }

  /// Whether a frame of `bytes` (0: any small one) may join p's queue.
  bool fits(const peer& p, std::size_t bytes) const {
    return queued_frames(p) < options_.max_queued_frames &&
           queued_bytes(p) + std::max<std::size_t>(bytes, 1) <= options_.max_queued_bytes;
  }

  /// p, if it was found full and its queue is below half of both bounds now (then it is not any more).
  std::optional<node_identity> room_again(peer& p) const {
    if (!p.wants_room || queued_frames(p) > options_.max_queued_frames / 2 || queued_bytes(p) > options_.max_queued_bytes / 2)
      return std::nullopt;
    p.wants_room = false;
    return node_identity{p.incarnation, p.name, p.address, codec::binary};
  }

  void tell_room(const node_identity& p) {
    core_.link().call([&](transport_host& host) { host.room(p); });
  }

  // ---- giving frames to a connection (mutex held) ----

  /// Gives a channel that just opened the frames waiting for its peer; a sequenced one first resumes the
  /// peer's stream at its first frame not acknowledged.
  void give_waiting(channel& ch) {
    peer& p = *ch.owner;
    stop_reconnecting(p);
    if (!ch.open) return;
    if (!ch.sequenced && ch.conn->sequenced()) {
      ch.sequenced = true;
      requeue_unacked(p);  // (none: a channel carrying them ended before this one opened)
      thread_local std::string resume;
      resume.clear();
      wire::write_stream_frame(resume, wire::frame_kind::resume, {p.stream, p.acked + 1});
      if (!core_.link().hold(1)) return;
      if (!ch.conn->send(resume)) return core_.link().release(1);  // closing already: closed() sees the rest
    }
    if (p.waiting.empty()) return;
    if (ch.sequenced) {
      tcp::frame_queue copy = p.waiting;  // kept until acknowledged
      if (!ch.conn->send(copy)) return;  // closing already: closed() sees them
      p.unacked.append(std::move(p.waiting));
      p.waiting.clear();
    } else {
      const std::size_t n = p.waiting.frames();
      if (ch.conn->send(p.waiting)) p.delivered += n;  // (written, as far as it can tell)
    }
  }

  /// Gives one frame to `ch`, p's open channel; false if it takes no more (it is closing).
  bool give(peer& p, channel& ch, std::string_view frame) {
    if (!ch.conn->send(frame)) return false;
    if (ch.sequenced)
      p.unacked.append(frame);
    else
      ++p.delivered;
    return true;
  }

  /// The frames given to p's connections and not acknowledged go back in front of those waiting, to be
  /// given again (the work they hold is taken again: those written had released theirs).
  void requeue_unacked(peer& p) {
    if (p.unacked.empty()) return;
    core_.link().hold(p.unacked.frames());
    p.waiting.prepend(std::move(p.unacked));
    p.unacked.clear();
  }

  /// Removes the frames that are not data (resume frames) from `q`; returns how many.
  static std::size_t only_data(tcp::frame_queue& q) {
    tcp::frame_queue data;
    std::size_t others = 0;
    q.for_each([&](std::string_view f) {
      if (wire::is_data(tcp::frame_queue::kind_of(f)))
        data.append(f);
      else
        ++others;
    });
    if (others) q = std::move(data);
    return others;
  }

  tcp::transport_core& core_;  // owns this policy
  const tcp_pooled_options options_;

  mutable std::mutex mutex_;
  bool stopped_ = false;
  std::uint64_t streams_ = 0;  // the last stream number given
  std::unordered_map<const peer*, std::shared_ptr<peer>> live_;  // every peer not retired (counted live)
  std::map<std::pair<std::uint64_t, std::string>, peer_stats> retired_;  // by incarnation (or address, if 0)
  std::map<std::string, std::shared_ptr<peer>, std::less<>> by_address_;
  std::unordered_map<std::uint64_t, std::shared_ptr<peer>> by_incarnation_;
  std::unordered_map<const tcp::connection*, std::shared_ptr<channel>> channels_;  // those with a connection
};

}  // namespace

namespace {

const tcp_pooled_options& checked(const tcp_pooled_options& o) {
  using std::chrono::milliseconds;
  if (o.peer_timeout < milliseconds(100))
    throw std::invalid_argument("tcp_pooled_options: peer_timeout of " + tcp::milliseconds(o.peer_timeout) +
                                " is below the 100ms minimum");
  if (o.heartbeat_interval < duration::zero() ||
      (o.heartbeat_interval > duration::zero() && o.heartbeat_interval < milliseconds(1)))
    throw std::invalid_argument("tcp_pooled_options: heartbeat_interval must be zero (off) or at least 1ms");
  if (o.max_queued_frames < 1 || o.max_queued_bytes < 64 * 1024)
    throw std::invalid_argument("tcp_pooled_options: max_queued_frames must be at least 1 and max_queued_bytes at least 64 KiB");
  if (o.heartbeat_interval >= o.peer_timeout)
    throw std::invalid_argument("tcp_pooled_options: heartbeat_interval (" + tcp::milliseconds(o.heartbeat_interval) +
                                ") must be shorter than peer_timeout (" + tcp::milliseconds(o.peer_timeout) + ")");
  return o;
}

}  // namespace

tcp_pooled_transport::tcp_pooled_transport(tcp_pooled_options options)
    : tcp::transport(tcp::transport_core::make<pooled_policy>("tcp_pooled",
                                                              {.handshake_timeout = options.connect_timeout,
                                                               .close_timeout = options.connect_timeout,
                                                               .idle_timeout = options.idle_timeout,
                                                               .heartbeat_interval = checked(options).heartbeat_interval,
                                                               .peer_timeout = options.peer_timeout,
                                                               .max_batch_bytes = options.max_batch_bytes},
                                                              options)) {}

}  // namespace coactor
