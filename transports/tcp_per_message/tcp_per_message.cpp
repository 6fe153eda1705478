// tcp_per_message's connection policy: one exchange (connect, greeting + frame, ack, RST) per frame, and
// per-peer queues that let at most max_in_flight_per_peer exchanges run at once. An exchange's
// connection is the policy's own (it reads only the ack); the accepting side, which delivers and acks,
// is the core's (tcp/transport_core.hpp).
//
// Failure detection: no connection lasts, so a peer is seen up on each exchange's handshake (and by the
// core on the connections peers open), and seen gone only when a frame to it fails for want of it: the
// connect refused or timed out, the connection lost before the ack, no ack in time, or a bye saying it
// shut down. The frame goes back with its own error; then the core reports the incarnation that was up at
// that address down, after what this policy still holds for the address (forget) went back too.
//
// State: what is below `mutex_` is guarded by it (an exchange's `done` too, so that shutdown and an
// exchange finishing on another thread settle each frame exactly once). Host calls are made without the
// mutex, through the core's link.
#include <coactor/transports/tcp/transport_core.hpp>
#include <coactor/transports/tcp_per_message.hpp>

#include <algorithm>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <unordered_set>
#include <vector>

namespace coactor {
namespace {

/// One frame on a connection of its own.
struct exchange {
  exchange(std::string a, std::string f, tcp::strand e)
      : address(std::move(a)), frame(std::move(f)), ex(std::move(e)), timer(ex) {}
  std::string address;
  std::string frame;
  tcp::strand ex;
  asio::steady_timer timer;                // the ack deadline (strand)
  std::shared_ptr<tcp::connection> conn;   // set once connected (under the policy's mutex)
  std::uint64_t incarnation = 0;           // the peer's, once its hello arrived (under the policy's mutex)
  bool done = false;                       // settled: acked, failed or given up (under the policy's mutex)
};

struct peer_queue {
  std::deque<std::string> frames;  // waiting for a free slot
  unsigned in_flight = 0;
  std::size_t bytes = 0;           // of the frames waiting and in flight
  bool wants_room = false;         // found full: the host hears when it is not (room)
  std::uint64_t incarnation = 0;   // the last one a handshake showed there (for room)
};

class per_message_policy final : public tcp::connection_policy {
 public:
  per_message_policy(tcp::transport_core& core, const tcp_per_message_options& options)
      : core_(core), options_(options) {
    options_.max_in_flight_per_peer = std::max(1u, options_.max_in_flight_per_peer);
    options_.max_queued_frames = std::max<std::size_t>(1, options_.max_queued_frames);
    options_.max_queued_bytes = std::max<std::size_t>(64 * 1024, options_.max_queued_bytes);
  }

  bool has_room(const peer_ref& ref) override {
    std::lock_guard lock(mutex_);
    auto it = peers_.find(ref.address);
    if (stopped_ || it == peers_.end() || fits(it->second, 0)) return true;
    it->second.wants_room = true;
    return false;
  }

  wire::connection_mode mode() const noexcept override { return wire::connection_mode::per_message; }

  void send(const peer_ref& ref, std::string_view frame) override {
    error why{std::error_code{}};
    if (ref.address.empty()) {
      why = error(errc::unreachable, "node " + std::to_string(ref.incarnation) +
                                         " does not listen (tcp_per_message reaches only nodes that listen)");
    } else {
      std::lock_guard lock(mutex_);
      if (stopped_) {
        why = error(errc::stopped, "the transport shut down");
      } else if (auto full = peers_.find(ref.address); full != peers_.end() && !fits(full->second, frame.size())) {
        full->second.wants_room = true;
        why = error(errc::queue_full, "tcp_per_message: the queue for " + full->first + " is full (" +
                                          std::to_string(full->second.frames.size() + full->second.in_flight) + " frames, " +
                                          std::to_string(full->second.bytes) +
                                          " bytes; tcp_per_message_options::max_queued_frames, max_queued_bytes)");
      } else {
        core_.link().hold(1);
        auto it = peers_.find(ref.address);
        if (it == peers_.end()) it = peers_.emplace(std::string(ref.address), peer_queue{}).first;
        peer_queue& q = it->second;
        q.bytes += frame.size();
        if (q.in_flight < options_.max_in_flight_per_peer) {
          ++q.in_flight;
          start(it->first, std::string(frame));
        } else {
          q.frames.emplace_back(frame);
        }
        return;
      }
    }
    core_.link().call([&](transport_host& host) { host.undeliverable(frame, why); });
  }

  void stop() override {
    std::vector<std::shared_ptr<exchange>> cancelled;
    tcp::frame_queue unconfirmed;  // in flight: perhaps written, not acknowledged
    tcp::frame_queue lost;         // still queued: never sent
    {
      std::lock_guard lock(mutex_);
      stopped_ = true;
      for (const auto& x : exchanges_) {
        if (x->done) continue;
        x->done = true;
        unconfirmed.append(x->frame);
        cancelled.push_back(x);
      }
      for (auto& [address, q] : peers_)
        for (const std::string& f : q.frames) lost.append(f);
      exchanges_.clear();
      peers_.clear();
    }
    for (auto& x : cancelled) {
      if (x->conn) static_cast<void>(x->conn->abort());  // its frame is the exchange's copy
      tcp::run_on(x->ex, [x] { x->timer.cancel(); });
    }
    core_.give_up(unconfirmed, error(errc::stopped, "the transport shut down before the peer confirmed it (it may have arrived)"));
    core_.give_up(lost, error(errc::stopped, "the transport shut down"));
  }

  tcp::frame_queue forget(const node_identity& node) override {
    std::vector<std::shared_ptr<exchange>> cancelled;
    tcp::frame_queue held;
    {
      std::lock_guard lock(mutex_);
      auto it = peers_.find(node.address);
      if (stopped_ || node.address.empty() || it == peers_.end()) return {};
      // After a restart, the frames on their way to the address go to the new incarnation, which answers
      // for them; only those its handshake showed were with this one are held for it.
      const std::uint64_t now_there = core_.up_at(node.address);
      const bool replaced = now_there != 0 && now_there != node.incarnation;
      for (auto x = exchanges_.begin(); x != exchanges_.end();) {
        if ((*x)->address != node.address || (*x)->done || (replaced && (*x)->incarnation != node.incarnation)) {
          ++x;
          continue;
        }
        (*x)->done = true;
        held.append((*x)->frame);
        cancelled.push_back(*x);
        x = exchanges_.erase(x);
      }
      peer_queue& q = it->second;
      q.in_flight -= static_cast<unsigned>(cancelled.size());
      for (const auto& x : cancelled) q.bytes -= x->frame.size();
      if (!replaced) {
        for (const std::string& f : q.frames) {
          held.append(f);
          q.bytes -= f.size();
        }
        q.frames.clear();
      }
      if (q.in_flight == 0 && q.frames.empty()) peers_.erase(it);
    }
    for (auto& x : cancelled) {
      if (x->conn) static_cast<void>(x->conn->abort());
      tcp::run_on(x->ex, [x] { x->timer.cancel(); });
    }
    return held;
  }

 private:
  /// Starts an exchange (mutex held; the peer's in_flight already counts it).
  void start(std::string address, std::string frame) {
    auto x = std::make_shared<exchange>(std::move(address), std::move(frame), asio::make_strand(core_.io()));
    exchanges_.insert(x);
    tcp::async_connect(x->ex, x->address, options_.connect_timeout,
                       [w = core_.weak_from_this(), this, x](result<tcp::socket> s) {
                         if (auto core = w.lock()) connected(x, std::move(s));  // the core owns this policy
                       });
  }

  void connected(const std::shared_ptr<exchange>& x, result<tcp::socket> s) {
    if (!s) return settle(x, s.error(), true);
    tcp::connection_options o;
    o.handshake_timeout = options_.ack_timeout;
    o.reset_on_close = true;
    tcp::connection::handlers h;
    std::weak_ptr<tcp::transport_core> w = core_.weak_from_this();
    std::weak_ptr<exchange> wx = x;
    h.hello = [w, this, wx](tcp::connection&, const wire::hello& hello) {
      auto core = w.lock();
      auto xx = wx.lock();
      if (!core || !xx) return;
      {
        std::lock_guard lock(mutex_);
        xx->incarnation = hello.node.incarnation;
        if (auto it = peers_.find(xx->address); it != peers_.end()) it->second.incarnation = hello.node.incarnation;
      }
      core_.peer_seen(hello.node, [this, xx] {  // not if it was given up meanwhile (its peer reported down)
        std::lock_guard lock(mutex_);
        return !xx->done;
      });
    };
    h.frames = [w, this, wx](tcp::connection&, std::string_view frames) {
      auto core = w.lock();
      auto xx = wx.lock();
      if (core && xx) on_answer(xx, frames);
    };
    h.closed = [w, this, wx](tcp::connection&, tcp::connection_end end) {
      auto core = w.lock();
      auto xx = wx.lock();
      if (core && xx)
        settle(xx, error(errc::unreachable, end.why.code() ? end.why.detail() : "the connection closed before the ack"),
               true);
    };
    std::shared_ptr<tcp::connection> conn;
    {
      std::lock_guard lock(mutex_);
      if (x->done) return;
      conn = tcp::connection::make(std::move(*s), x->ex, o, std::move(h));
      x->conn = conn;
    }
    conn->send(x->frame);  // before start(): preamble, hello and frame go in one write
    core_.start(*conn);
    x->timer.expires_after(options_.ack_timeout);
    x->timer.async_wait([w, this, x, timeout = options_.ack_timeout](const std::error_code& ec) {
      if (ec) return;
      if (auto core = w.lock())
        settle(x, error(errc::timeout, x->address + ": no ack within " + tcp::milliseconds(timeout) +
                                           " (the frame may or may not have arrived)"),
               true);
    });
  }

  /// What came back: the ack (status 0, or the peer's refusal) or a bye.
  void on_answer(const std::shared_ptr<exchange>& x, std::string_view frames) {
    // Heartbeats are no answer (none are asked of the peer here, but they mean nothing more anywhere).
    while (!frames.empty() && tcp::frame_queue::kind_of(frames) == wire::frame_kind::heartbeat)
      frames.remove_prefix(tcp::frame_queue::size_of(frames));
    if (frames.empty()) return;
    const std::string_view f = frames.substr(0, tcp::frame_queue::size_of(frames));
    const wire::frame_kind kind = tcp::frame_queue::kind_of(f);
    if (kind != wire::frame_kind::ack && kind != wire::frame_kind::bye)
      return settle(x, error(errc::protocol, x->address + " answered with a frame of kind " +
                                                 std::to_string(static_cast<int>(kind)) + " instead of an ack"));
    auto parsed = wire::parse_frame(f, 0, {});
    auto status = parsed ? wire::read_status(parsed->payload) : result<wire::status>(parsed.error());
    if (!status) return settle(x, error(errc::protocol, x->address + ": a malformed ack: " + status.error().detail()));
    if (kind == wire::frame_kind::ack && status->code == 0) return settle(x, error(std::error_code{}));
    const error refusal = status->to_error();
    // A bye saying the peer shuts down: it is gone. Any other answer came from a node that is there.
    const bool gone = kind == wire::frame_kind::bye && status->code == static_cast<int>(errc::stopped);
    settle(x, error(status->code ? refusal.code() : make_error_code(errc::unreachable),
                    x->address + (kind == wire::frame_kind::bye ? " closed the connection: " : " refused the frame: ") +
                        refusal.detail()),
           gone);
  }

  /// The frame's outcome (an empty code: acknowledged). Closes the connection (RST), starts the peer's
  /// next frame, tells the host if the frame failed, and, if it failed for want of the peer
  /// (`peer_gone`), the core. Once per exchange.
  void settle(const std::shared_ptr<exchange>& x, const error& why, bool peer_gone = false) {
    std::shared_ptr<tcp::connection> conn;
    std::optional<node_identity> roomy;
    {
      std::lock_guard lock(mutex_);
      if (x->done) return;
      x->done = true;
      conn = x->conn;
      exchanges_.erase(x);
      if (auto it = peers_.find(x->address); it != peers_.end()) {
        peer_queue& q = it->second;
        --q.in_flight;
        q.bytes -= x->frame.size();
        if (q.wants_room && (q.frames.size() + q.in_flight) <= options_.max_queued_frames / 2 &&
            q.bytes <= options_.max_queued_bytes / 2) {
          q.wants_room = false;
          roomy = node_identity{q.incarnation, {}, x->address, codec::binary};
        }
        if (!stopped_ && !q.frames.empty()) {
          std::string next = std::move(q.frames.front());
          q.frames.pop_front();
          ++q.in_flight;
          start(x->address, std::move(next));
        } else if (q.in_flight == 0 && q.frames.empty()) {
          peers_.erase(it);
        }
      }
    }
    tcp::run_on(x->ex, [x] { x->timer.cancel(); });
    if (conn) conn->close(error(errc::stopped, "done"));
    if (why.code()) core_.link().call([&](transport_host& host) { host.undeliverable(x->frame, why); });
    core_.link().release(1);
    if (roomy) core_.link().call([&](transport_host& host) { host.room(*roomy); });
    if (peer_gone) core_.peer_lost_at(x->address, why);
  }

  /// Whether a frame of `bytes` (0: any small one) may join q (mutex held).
  bool fits(const peer_queue& q, std::size_t bytes) const {
    return q.frames.size() + q.in_flight < options_.max_queued_frames &&
           q.bytes + std::max<std::size_t>(bytes, 1) <= options_.max_queued_bytes;
  }

  tcp::transport_core& core_;  // owns this policy
  tcp_per_message_options options_;

  std::mutex mutex_;
  bool stopped_ = false;
  std::map<std::string, peer_queue, std::less<>> peers_;
  std::unordered_set<std::shared_ptr<exchange>> exchanges_;
};

}  // namespace

tcp_per_message_transport::tcp_per_message_transport(tcp_per_message_options options)
    : tcp::transport(tcp::transport_core::make<per_message_policy>(
          "tcp_per_message", {.handshake_timeout = options.connect_timeout, .idle_timeout = options.idle_timeout},
          options)) {}

}  // namespace coactor
