// tcp_per_message: one exchange (connect, greeting + frame, ack, RST) per frame; per-peer queues that
// let at most max_in_flight_per_peer exchanges run at once; and the accepting side, which delivers and
// acks. The socket work is tcp::connection's.
//
// State: what is below `mutex` in `core` is guarded by it (an exchange's `done` too, so that shutdown and
// an exchange finishing on another thread settle each frame exactly once). Host calls are made without
// the mutex, through the host_link.
#include <coactor/transports/tcp/connection.hpp>
#include <coactor/transports/tcp/host_link.hpp>
#include <coactor/transports/tcp/net.hpp>
#include <coactor/transports/tcp_per_message.hpp>

#include <algorithm>
#include <deque>
#include <map>
#include <mutex>
#include <unordered_set>
#include <vector>

namespace coactor {
namespace {

std::string milliseconds(duration d) {
  return std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(d).count()) + "ms";
}

wire::frame_kind kind_of(std::string_view frame) noexcept {
  return static_cast<wire::frame_kind>(static_cast<unsigned char>(frame[wire::length_bytes]));
}

const std::string& ack_frame() {
  static const std::string ack = [] {
    std::string out;
    const std::size_t start = wire::begin_frame(out, wire::frame_kind::ack, codec{}, 0);
    wire::write_status(out, 0, {});
    wire::end_frame(out, start);
    return out;
  }();
  return ack;
}

/// The ack of a frame the node refused: its reason, for the sender.
std::string refusal_frame(const error& why) {
  std::string out;
  const std::size_t start = wire::begin_frame(out, wire::frame_kind::ack, codec{}, 0);
  const bool ours = why.code().category() == error_category();
  wire::write_status(out, ours ? why.code().value() : static_cast<int>(errc::protocol), why.detail());
  wire::end_frame(out, start);
  return out;
}

/// One frame on a connection of its own.
struct exchange {
  exchange(std::string a, std::string f, tcp::strand e)
      : address(std::move(a)), frame(std::move(f)), ex(std::move(e)), timer(ex) {}
  std::string address;
  std::string frame;
  tcp::strand ex;
  asio::steady_timer timer;                // the ack deadline (strand)
  std::shared_ptr<tcp::connection> conn;   // set once connected (under the core's mutex)
  bool done = false;                       // settled: acked, failed or given up (under the core's mutex)
};

struct peer_queue {
  std::deque<std::string> frames;  // waiting for a free slot
  unsigned in_flight = 0;
};

bool refused_by_us(const error& why) {
  return why == errc::protocol || why == errc::too_large || why == errc::bad_message;
}

}  // namespace

struct tcp_per_message_transport::core : std::enable_shared_from_this<core> {
  explicit core(tcp_per_message_options o) : options(o) {
    options.max_in_flight_per_peer = std::max(1u, options.max_in_flight_per_peer);
  }

  tcp_per_message_options options;
  tcp::host_link link;
  asio::io_context* io = nullptr;
  error no_io{std::error_code{}};

  std::mutex mutex;
  bool stopped = false;
  node_identity self;
  std::shared_ptr<tcp::listener> listener;
  std::map<std::string, peer_queue, std::less<>> peers;
  std::unordered_set<std::shared_ptr<exchange>> exchanges;
  std::unordered_set<std::shared_ptr<tcp::connection>> served;  // accepted connections

  // ---- sending side ----

  /// Starts an exchange (mutex held; the peer's in_flight already counts it).
  void start(std::string address, std::string frame) {
    auto x = std::make_shared<exchange>(std::move(address), std::move(frame), asio::make_strand(*io));
    exchanges.insert(x);
    tcp::async_connect(x->ex, x->address, options.connect_timeout, [w = weak_from_this(), x](result<tcp::socket> s) {
      if (auto c = w.lock()) c->connected(x, std::move(s));
    });
  }

  void connected(const std::shared_ptr<exchange>& x, result<tcp::socket> s) {
    if (!s) return settle(x, s.error());
    tcp::connection_options o;
    o.handshake_timeout = options.ack_timeout;
    o.reset_on_close = true;
    tcp::connection::handlers h;
    std::weak_ptr<core> w = weak_from_this();
    std::weak_ptr<exchange> wx = x;
    h.frames = [w, wx](tcp::connection&, std::string_view frames) {
      auto c = w.lock();
      auto xx = wx.lock();
      if (c && xx) c->on_answer(xx, frames);
    };
    h.closed = [w, wx](tcp::connection&, tcp::connection_end end) {
      auto c = w.lock();
      auto xx = wx.lock();
      if (!c || !xx) return;
      c->settle(xx, error(errc::unreachable, end.why.code() ? end.why.detail() : "the connection closed before the ack"));
    };
    std::shared_ptr<tcp::connection> conn;
    node_identity me;
    {
      std::lock_guard lock(mutex);
      if (x->done) return;
      conn = tcp::connection::make(std::move(*s), x->ex, o, std::move(h));
      x->conn = conn;
      me = self;
    }
    conn->send(x->frame);  // before start(): preamble, hello and frame go in one write
    conn->start(me);
    x->timer.expires_after(options.ack_timeout);
    x->timer.async_wait([w, x, timeout = options.ack_timeout](const std::error_code& ec) {
      if (ec) return;
      if (auto c = w.lock())
        c->settle(x, error(errc::timeout, x->address + ": no ack within " + milliseconds(timeout) +
                                              " (the frame may or may not have arrived)"));
    });
  }

  /// What came back: the ack (status 0, or the peer's refusal) or a bye.
  void on_answer(const std::shared_ptr<exchange>& x, std::string_view frames) {
    const std::string_view f = frames.substr(0, tcp::frame_queue::size_of(frames));
    const wire::frame_kind kind = kind_of(f);
    if (kind != wire::frame_kind::ack && kind != wire::frame_kind::bye)
      return settle(x, error(errc::protocol, x->address + " answered with a frame of kind " +
                                                 std::to_string(static_cast<int>(kind)) + " instead of an ack"));
    auto parsed = wire::parse_frame(f, 0, {});
    auto status = parsed ? wire::read_status(parsed->payload) : result<wire::status>(parsed.error());
    if (!status) return settle(x, error(errc::protocol, x->address + ": a malformed ack: " + status.error().detail()));
    if (kind == wire::frame_kind::ack && status->code == 0) return settle(x, error(std::error_code{}));
    const error refusal = status->to_error();
    settle(x, error(status->code ? refusal.code() : make_error_code(errc::unreachable),
                    x->address + (kind == wire::frame_kind::bye ? " closed the connection: " : " refused the frame: ") +
                        refusal.detail()));
  }

  /// The frame's outcome (an empty code: acknowledged). Closes the connection (RST), starts the peer's
  /// next frame, tells the host if the frame failed. Once per exchange.
  void settle(const std::shared_ptr<exchange>& x, const error& why) {
    std::shared_ptr<tcp::connection> conn;
    {
      std::lock_guard lock(mutex);
      if (x->done) return;
      x->done = true;
      conn = x->conn;
      exchanges.erase(x);
      if (auto it = peers.find(x->address); it != peers.end()) {
        peer_queue& q = it->second;
        --q.in_flight;
        if (!stopped && !q.frames.empty()) {
          std::string next = std::move(q.frames.front());
          q.frames.pop_front();
          ++q.in_flight;
          start(x->address, std::move(next));
        } else if (q.in_flight == 0 && q.frames.empty()) {
          peers.erase(it);
        }
      }
    }
    tcp::run_on(x->ex, [x] { x->timer.cancel(); });
    if (conn) conn->close(error(errc::stopped, "done"));
    if (why.code()) link.call([&](transport_host& host) { host.undeliverable(x->frame, why); });
    link.release(1);
  }

  void send(const peer_ref& ref, std::string_view frame) {
    if (!io) {
      link.call([&](transport_host& host) { host.undeliverable(frame, no_io); });
      return;
    }
    error why{std::error_code{}};
    if (ref.address.empty()) {
      why = error(errc::unreachable, "node " + std::to_string(ref.incarnation) +
                                         " does not listen (tcp_per_message reaches only nodes that listen)");
    } else {
      std::lock_guard lock(mutex);
      if (stopped) {
        why = error(errc::stopped, "the transport shut down");
      } else {
        link.hold(1);
        auto it = peers.find(ref.address);
        if (it == peers.end()) it = peers.emplace(std::string(ref.address), peer_queue{}).first;
        peer_queue& q = it->second;
        if (q.in_flight < options.max_in_flight_per_peer) {
          ++q.in_flight;
          start(it->first, std::string(frame));
        } else {
          q.frames.emplace_back(frame);
        }
        return;
      }
    }
    link.call([&](transport_host& host) { host.undeliverable(frame, why); });
  }

  // ---- accepting side ----

  void accepted(result<tcp::socket> s) {
    if (!s) {
      link.call([&](transport_host& host) { host.report(s.error()); });
      return;
    }
    tcp::connection_options o;
    o.handshake_timeout = options.connect_timeout;
    o.idle_timeout = options.idle_timeout;
    tcp::connection::handlers h;
    std::weak_ptr<core> w = weak_from_this();
    h.frames = [w](tcp::connection& conn, std::string_view frames) {
      if (auto c = w.lock()) c->on_frames(conn, frames);
    };
    h.written = [w](tcp::connection&, std::size_t n) {  // acks written
      if (auto c = w.lock()) c->link.release(n);
    };
    h.idle = [](tcp::connection& conn) { conn.close(error(errc::timeout, "idle")); };
    h.closed = [w](tcp::connection& conn, tcp::connection_end end) {
      if (auto c = w.lock()) c->on_served_closed(conn, end);
    };
    std::shared_ptr<tcp::connection> conn;
    node_identity me;
    {
      std::lock_guard lock(mutex);
      if (stopped) return;
      conn = tcp::connection::make(std::move(*s), asio::make_strand(*io), o, std::move(h));
      served.insert(conn);
      me = self;
    }
    conn->start(me);
  }

  void on_frames(tcp::connection& conn, std::string_view frames) {
    int unexpected = 0;
    bool bye = false;
    const bool open = link.call([&](transport_host& host) {
      while (!frames.empty()) {
        const std::size_t n = tcp::frame_queue::size_of(frames);
        const std::string_view f = frames.substr(0, n);
        frames.remove_prefix(n);
        switch (kind_of(f)) {
          case wire::frame_kind::message:
          case wire::frame_kind::request:
          case wire::frame_kind::reply:
          case wire::frame_kind::failure:
          {
            // After the delivery: the sender's next frame waits for this ack. Held as work until
            // written, so that this node's run() does not return with the ack unsent.
            const result<void> taken = host.deliver(conn.peer(), f);
            link.hold(1);
            if (!conn.send(taken ? ack_frame() : refusal_frame(taken.error()))) link.release(1);
            continue;
          }
          case wire::frame_kind::bye:
            bye = true;
            break;
          default:
            unexpected = static_cast<int>(kind_of(f));
            break;
        }
        break;
      }
    });
    if (!open) return conn.close(error(errc::stopped, "the transport shut down"));
    if (unexpected)
      conn.refuse(error(errc::protocol, "unexpected frame of kind " + std::to_string(unexpected) + " from " + conn.remote()));
    else if (bye)
      conn.finish(false);
  }

  void on_served_closed(tcp::connection& conn, const tcp::connection_end& end) {
    link.release(end.unwritten.frames());  // acks that will not be written
    {
      std::lock_guard lock(mutex);
      if (stopped) return;
      served.erase(conn.shared_from_this());
    }
    // The sender's RST (or EOF) after its ack is the normal end. Only a refusal is worth a report.
    if (refused_by_us(end.why) || (!end.opened && end.why == errc::timeout))
      link.call([&](transport_host& host) {
        host.report(error(end.why.code(), "tcp_per_message: connection from " + conn.remote() + ": " + end.why.detail()));
      });
  }
};

tcp_per_message_transport::tcp_per_message_transport(tcp_per_message_options options)
    : core_(std::make_shared<core>(options)) {}

tcp_per_message_transport::~tcp_per_message_transport() {
  core_->link.close();  // the host may be half destroyed by now
  shutdown();
}

void tcp_per_message_transport::attach(transport_host& host) {
  core_->link.attach(host);
  std::lock_guard lock(core_->mutex);
  core_->self = host.identity();
  auto io = tcp::io_context_of(host, "tcp_per_message");
  if (io)
    core_->io = *io;
  else
    core_->no_io = io.error();
}

result<node_address> tcp_per_message_transport::listen(std::string_view address) {
  core& c = *core_;
  if (!c.io) return c.no_io;
  std::lock_guard lock(c.mutex);
  if (c.stopped) return error(errc::stopped, "the transport shut down");
  if (c.listener) return error(errc::io, "tcp_per_message: already listening at " + c.listener->address().to_string());
  auto l = tcp::listener::open(*c.io, address, [w = c.weak_from_this()](result<tcp::socket> s) {
    if (auto cc = w.lock()) cc->accepted(std::move(s));
  });
  if (!l) return l.error();
  c.listener = *l;
  c.self.address = c.listener->address().to_string();
  return c.listener->address();
}

void tcp_per_message_transport::send(const peer_ref& peer, std::string_view frame) { core_->send(peer, frame); }

void tcp_per_message_transport::shutdown() {
  core& c = *core_;
  std::shared_ptr<tcp::listener> listener;
  std::vector<std::shared_ptr<tcp::connection>> conns;
  std::vector<std::shared_ptr<exchange>> cancelled;
  tcp::frame_queue unconfirmed;  // in flight: perhaps written, not acknowledged
  tcp::frame_queue lost;         // still queued: never sent
  {
    std::lock_guard lock(c.mutex);
    if (c.stopped) return;
    c.stopped = true;
    listener = std::move(c.listener);
    for (const auto& x : c.exchanges) {
      if (x->done) continue;
      x->done = true;
      unconfirmed.append(x->frame);
      if (x->conn) conns.push_back(x->conn);
      cancelled.push_back(x);
    }
    for (auto& [address, q] : c.peers)
      for (const std::string& f : q.frames) lost.append(f);
    for (const auto& conn : c.served) conns.push_back(conn);
    c.exchanges.clear();
    c.peers.clear();
    c.served.clear();
  }
  if (listener) listener->close();
  for (auto& conn : conns) static_cast<void>(conn->abort());  // their frames are the exchanges' copies
  for (auto& x : cancelled) tcp::run_on(x->ex, [x] { x->timer.cancel(); });
  if (!unconfirmed.empty() || !lost.empty()) {
    const error sent(errc::stopped, "the transport shut down before the peer confirmed it (it may have arrived)");
    const error why(errc::stopped, "the transport shut down");
    c.link.call([&](transport_host& host) {
      unconfirmed.for_each([&](std::string_view f) { host.undeliverable(f, sent); });
      lost.for_each([&](std::string_view f) { host.undeliverable(f, why); });
    });
  }
  c.link.close();  // releases the work the lost frames held
}

}  // namespace coactor
