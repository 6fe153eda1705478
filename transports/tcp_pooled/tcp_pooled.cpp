// tcp_pooled: the peer table and the life of its connections. The socket work (handshake, reading,
// coalesced writing, closing) is tcp::connection's; this file decides which connection a frame goes on
// and what happens to frames when a connection does not work out.
//
// State: everything below `mutex` in `core` is guarded by it. Connection handlers run on each
// connection's strand and take the mutex for the table; host calls are made without it (a delivery may
// send, and sending takes it), through the host_link.
#include <coactor/transports/tcp/connection.hpp>
#include <coactor/transports/tcp/host_link.hpp>
#include <coactor/transports/tcp/net.hpp>
#include <coactor/transports/tcp_pooled.hpp>

#include <map>
#include <mutex>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace coactor {
namespace {

struct peer;

/// One connection as the pooled transport sees it.
struct channel {
  std::shared_ptr<tcp::connection> conn;  // null while connecting
  std::shared_ptr<peer> owner;            // the peer whose frames it carries; null: it only receives
  bool outbound = false;                  // this node opened it
  bool open = false;                      // the handshake is done and frames may be given to it
  std::size_t retried_given = 0;          // the first frames given to it were already retries
  std::string target;                     // for messages: the address dialled, or the peer's endpoint
};

/// Another node, as far as sending to it goes.
struct peer {
  std::string address;                // where it listens; empty if it does not
  std::uint64_t incarnation = 0;      // 0 until a hello told it
  std::shared_ptr<channel> sending;   // the connection its frames go on (connecting or open), or null
  std::shared_ptr<channel> closing;   // the previous one, closing gracefully: a new one waits for it
  tcp::frame_queue waiting;           // frames while no connection is open
  std::size_t waiting_retried = 0;    // the first frames of `waiting` are retries (their second try)

  std::string describe() const {
    if (!address.empty()) return address;
    return "node " + std::to_string(incarnation) + " (which does not listen)";
  }
};

bool is_data(std::string_view frame) noexcept {
  switch (static_cast<wire::frame_kind>(static_cast<unsigned char>(frame[wire::length_bytes]))) {
    case wire::frame_kind::message:
    case wire::frame_kind::request:
    case wire::frame_kind::reply:
    case wire::frame_kind::failure:
      return true;
    default:
      return false;
  }
}

bool refused_by_us(const error& why) {
  return why == errc::protocol || why == errc::too_large || why == errc::bad_message;
}

}  // namespace

struct tcp_pooled_transport::core : std::enable_shared_from_this<core> {
  explicit core(tcp_pooled_options o) : options(o) {}

  const tcp_pooled_options options;
  tcp::host_link link;
  asio::io_context* io = nullptr;
  error no_io{std::error_code{}};

  std::mutex mutex;
  bool stopped = false;
  node_identity self;  // what this node says in its hello (the address once listen() succeeded)
  std::shared_ptr<tcp::listener> listener;
  std::map<std::string, std::shared_ptr<peer>, std::less<>> by_address;
  std::unordered_map<std::uint64_t, std::shared_ptr<peer>> by_incarnation;
  std::unordered_set<std::shared_ptr<channel>> channels;

  tcp::connection_options connection_options() const {
    tcp::connection_options o;
    o.handshake_timeout = options.connect_timeout;
    o.close_timeout = options.connect_timeout;
    o.idle_timeout = options.idle_timeout;
    o.max_batch_bytes = options.max_batch_bytes;
    return o;
  }

  // ---- host calls (never under the mutex) ----

  /// Frames that will not arrive: each to the host, and their work released.
  void give_up(const tcp::frame_queue& frames, const error& why) {
    if (frames.empty()) return;
    link.call([&](transport_host& host) { frames.for_each([&](std::string_view f) { host.undeliverable(f, why); }); });
    link.release(frames.frames());
  }

  void report(const error& what) {
    link.call([&](transport_host& host) { host.report(what); });
  }

  // ---- the peer table (mutex held) ----

  std::shared_ptr<peer> find_peer(const peer_ref& ref) {
    if (ref.incarnation != 0)
      if (auto it = by_incarnation.find(ref.incarnation); it != by_incarnation.end()) return it->second;
    if (ref.address.empty()) return nullptr;
    if (auto it = by_address.find(ref.address); it != by_address.end()) return it->second;
    auto p = std::make_shared<peer>();
    p->address = std::string(ref.address);
    by_address.emplace(p->address, p);
    return p;
  }

  /// The peer a hello introduces (an inbound connection's, or an outbound one's for `known`).
  std::shared_ptr<peer> merge_peer(const node_identity& node, std::shared_ptr<peer> known) {
    std::shared_ptr<peer> p = std::move(known);
    if (!p)
      if (auto it = by_incarnation.find(node.incarnation); it != by_incarnation.end()) p = it->second;
    if (!p && !node.address.empty())
      if (auto it = by_address.find(node.address); it != by_address.end())
        if (it->second->incarnation == 0 || it->second->incarnation == node.incarnation) p = it->second;
    if (!p) {
      // New, or a new incarnation at a known address: this one takes the address (the previous one stays
      // reachable by its incarnation until its connection closes).
      p = std::make_shared<peer>();
      p->address = node.address;
      if (!p->address.empty()) by_address[p->address] = p;
    }
    if (p->incarnation != node.incarnation) {
      if (auto it = by_incarnation.find(p->incarnation); it != by_incarnation.end() && it->second == p)
        by_incarnation.erase(it);
      p->incarnation = node.incarnation;
    }
    by_incarnation[p->incarnation] = p;
    if (p->address.empty() && !node.address.empty()) {
      p->address = node.address;
      by_address[p->address] = p;
    }
    return p;
  }

  void forget_if_unused(const std::shared_ptr<peer>& p) {
    if (p->sending || p->closing || !p->waiting.empty()) return;
    if (auto it = by_address.find(p->address); it != by_address.end() && it->second == p) by_address.erase(it);
    if (auto it = by_incarnation.find(p->incarnation); it != by_incarnation.end() && it->second == p)
      by_incarnation.erase(it);
  }

  /// Starts a connection for `p` (which has an address and no connection).
  void connect(const std::shared_ptr<peer>& p) {
    auto ch = std::make_shared<channel>();
    ch->owner = p;
    ch->outbound = true;
    ch->target = p->address;
    p->sending = ch;
    channels.insert(ch);
    auto ex = asio::make_strand(*io);
    tcp::async_connect(ex, p->address, options.connect_timeout,
                       [w = weak_from_this(), ch, ex](result<tcp::socket> s) {
                         if (auto c = w.lock()) c->connected(ch, ex, std::move(s));
                       });
  }

  // ---- connection events ----

  tcp::connection::handlers handlers_for(const std::shared_ptr<channel>& ch) {
    tcp::connection::handlers h;
    std::weak_ptr<core> w = weak_from_this();
    std::weak_ptr<channel> wc = ch;
    h.hello = [w, wc](tcp::connection& conn, const wire::hello& hello) {
      auto c = w.lock();
      auto chan = wc.lock();
      if (c && chan) c->on_hello(chan, conn, hello);
    };
    h.frames = [w, wc](tcp::connection& conn, std::string_view frames) {
      auto c = w.lock();
      auto chan = wc.lock();
      if (c && chan) c->on_frames(chan, conn, frames);
    };
    h.written = [w](tcp::connection&, std::size_t n) {
      if (auto c = w.lock()) c->link.release(n);
    };
    h.idle = [w, wc](tcp::connection& conn) {
      auto c = w.lock();
      auto chan = wc.lock();
      if (c && chan) c->on_idle(chan, conn);
    };
    h.closed = [w, wc](tcp::connection& conn, tcp::connection_end end) {
      auto c = w.lock();
      auto chan = wc.lock();
      if (c && chan) c->on_closed(chan, conn, std::move(end));
    };
    return h;
  }

  void connected(const std::shared_ptr<channel>& ch, const tcp::strand& ex, result<tcp::socket> s) {
    if (!s) return connect_failed(ch, s.error());
    std::shared_ptr<tcp::connection> conn;
    node_identity me;
    {
      std::lock_guard lock(mutex);
      if (stopped || !channels.count(ch)) return;  // the socket closes as it goes
      conn = tcp::connection::make(std::move(*s), ex, connection_options(), handlers_for(ch));
      ch->conn = conn;
      me = self;
    }
    conn->start(me);
  }

  void connect_failed(const std::shared_ptr<channel>& ch, const error& why) {
    tcp::frame_queue lost;
    {
      std::lock_guard lock(mutex);
      channels.erase(ch);
      std::shared_ptr<peer> p = std::exchange(ch->owner, nullptr);
      if (!p || p->sending != ch) return;
      p->sending = nullptr;
      lost = std::move(p->waiting);
      p->waiting.clear();
      p->waiting_retried = 0;
      forget_if_unused(p);
    }
    give_up(lost, error(errc::unreachable, why.detail()));
  }

  void accepted(result<tcp::socket> s) {
    if (!s) return report(s.error());
    std::shared_ptr<tcp::connection> conn;
    node_identity me;
    {
      std::lock_guard lock(mutex);
      if (stopped) return;
      auto ch = std::make_shared<channel>();
      conn = tcp::connection::make(std::move(*s), asio::make_strand(*io), connection_options(), handlers_for(ch));
      ch->conn = conn;
      ch->target = conn->remote();
      channels.insert(ch);
      me = self;
    }
    conn->start(me);
  }

  void on_hello(const std::shared_ptr<channel>& ch, tcp::connection& conn, const wire::hello& hello) {
    std::lock_guard lock(mutex);
    if (stopped || !channels.count(ch)) return;
    if (ch->outbound) {
      std::shared_ptr<peer> p = ch->owner;
      if (!p) return;
      merge_peer(hello.node, p);
      ch->open = true;
      ch->retried_given = p->waiting_retried;
      if (conn.send(p->waiting)) p->waiting_retried = 0;  // else it is closing already: on_closed sees them
      return;
    }
    ch->target = hello.node.address.empty() ? conn.remote() : hello.node.address;
    std::shared_ptr<peer> p = merge_peer(hello.node, nullptr);
    if (!p->sending && !p->closing) {  // reuse the peer's connection to send back to it
      p->sending = ch;
      ch->owner = p;
      ch->open = true;
    }
  }

  void on_frames(const std::shared_ptr<channel>& ch, tcp::connection& conn, std::string_view frames) {
    bool bye = false;
    int unexpected = 0;
    link.call([&](transport_host& host) {
      while (!frames.empty()) {
        const std::size_t n = tcp::frame_queue::size_of(frames);
        const std::string_view f = frames.substr(0, n);
        frames.remove_prefix(n);
        if (is_data(f)) {
          static_cast<void>(host.deliver(conn.peer(), f));  // a refusal is reported by the node
        } else if (static_cast<wire::frame_kind>(static_cast<unsigned char>(f[wire::length_bytes])) ==
                   wire::frame_kind::bye) {
          bye = true;  // nothing may follow it
          break;
        } else {
          unexpected = static_cast<unsigned char>(f[wire::length_bytes]);
          break;
        }
      }
    });
    if (unexpected) {
      conn.refuse(error(errc::protocol, "unexpected frame of kind " + std::to_string(unexpected) + " from " + ch->target));
    } else if (bye) {
      // The peer closes this connection (it was idle there): stop giving it frames, flush what it has,
      // shut our side down. Frames for the peer wait until it has closed, then go on a new connection.
      {
        std::lock_guard lock(mutex);
        if (auto p = ch->owner; p && p->sending == ch) {
          p->sending = nullptr;
          p->closing = ch;
        }
        ch->open = false;
      }
      conn.finish(false);
    }
  }

  void on_idle(const std::shared_ptr<channel>& ch, tcp::connection& conn) {
    {
      std::lock_guard lock(mutex);
      if (stopped) return;
      if (auto p = ch->owner; p && p->sending == ch) {
        p->sending = nullptr;
        p->closing = ch;
      }
      ch->open = false;
    }
    conn.send_bye_and_finish(error(errc::timeout, "idle"));
  }

  void on_closed(const std::shared_ptr<channel>& ch, tcp::connection& conn, tcp::connection_end end) {
    tcp::frame_queue lost;
    error lost_why(errc::unreachable, end.why.code() ? ch->target + ": " + end.why.detail() : ch->target + ": connection closed");
    bool stopping;
    std::string who;
    {
      std::lock_guard lock(mutex);
      stopping = stopped;
      channels.erase(ch);
      std::shared_ptr<peer> p = std::exchange(ch->owner, nullptr);
      ch->open = false;
      ch->conn = nullptr;
      who = p ? p->describe() : ch->target;
      if (stopping) {
        lost = std::move(end.unwritten);
      } else if (p) {
        if (p->sending == ch) p->sending = nullptr;
        if (p->closing == ch) p->closing = nullptr;
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
        if (!p->waiting.empty() && !p->sending && !p->closing) {
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
    static_cast<void>(conn);
    if (stopping) return give_up(lost, error(errc::stopped, "the transport shut down"));
    if (!end.graceful) {
      if (refused_by_us(end.why)) {
        report(error(end.why.code(), "tcp_pooled: refused the connection with " + who + ": " + end.why.detail()));
      } else if (!ch->outbound && !end.opened) {
        report(error(end.why.code(), "tcp_pooled: handshake from " + who + " failed: " + end.why.detail()));
      }
      if (end.opened && end.written > 0 && !end.clean_eof)
        report(error(errc::unreachable, "tcp_pooled: the connection to " + who + " broke (" + end.why.detail() +
                                            "); of the " + std::to_string(end.written) +
                                            " frame(s) written on it, any the peer had not read yet are lost"));
    }
    give_up(lost, lost_why);
  }

  // ---- the transport's operations ----

  void send(const peer_ref& ref, std::string_view frame) {
    if (!io) {
      link.call([&](transport_host& host) { host.undeliverable(frame, no_io); });
      return;
    }
    error why{std::error_code{}};
    bool held = false;
    {
      std::lock_guard lock(mutex);
      std::shared_ptr<peer> p = stopped ? nullptr : find_peer(ref);
      if (stopped) {
        why = error(errc::stopped, "the transport shut down");
      } else if (!p) {
        why = error(errc::unreachable, "node " + std::to_string(ref.incarnation) +
                                           " does not listen and has no connection to this node");
      } else {
        // Held before the frame is handed on: its write may complete on another thread at once.
        held = link.hold(1);
        if (p->sending && p->sending->open && p->sending->conn->send(frame)) return;
        if (p->sending || p->closing) {  // the connection being opened, or the one after the closing one
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
    link.call([&](transport_host& host) { host.undeliverable(frame, why); });
    if (held) link.release(1);
  }
};

tcp_pooled_transport::tcp_pooled_transport(tcp_pooled_options options) : core_(std::make_shared<core>(options)) {}

tcp_pooled_transport::~tcp_pooled_transport() {
  // The host may be half destroyed by now: close the link first, so that nothing reaches it.
  core_->link.close();
  shutdown();
}

void tcp_pooled_transport::attach(transport_host& host) {
  core_->link.attach(host);
  std::lock_guard lock(core_->mutex);
  core_->self = host.identity();
  auto io = tcp::io_context_of(host, "tcp_pooled");
  if (io)
    core_->io = *io;
  else
    core_->no_io = io.error();
}

result<node_address> tcp_pooled_transport::listen(std::string_view address) {
  core& c = *core_;
  if (!c.io) return c.no_io;
  std::lock_guard lock(c.mutex);
  if (c.stopped) return error(errc::stopped, "the transport shut down");
  if (c.listener) return error(errc::io, "tcp_pooled: already listening at " + c.listener->address().to_string());
  auto l = tcp::listener::open(*c.io, address, [w = c.weak_from_this()](result<tcp::socket> s) {
    if (auto cc = w.lock()) cc->accepted(std::move(s));
  });
  if (!l) return l.error();
  c.listener = *l;
  c.self.address = c.listener->address().to_string();
  return c.listener->address();
}

void tcp_pooled_transport::send(const peer_ref& peer, std::string_view frame) { core_->send(peer, frame); }

void tcp_pooled_transport::shutdown() {
  core& c = *core_;
  std::shared_ptr<tcp::listener> listener;
  std::vector<std::shared_ptr<tcp::connection>> conns;
  tcp::frame_queue lost;
  {
    std::lock_guard lock(c.mutex);
    if (c.stopped) return;
    c.stopped = true;
    listener = std::move(c.listener);
    std::unordered_set<peer*> seen;
    auto drain = [&](const std::shared_ptr<peer>& p) {
      if (!seen.insert(p.get()).second) return;
      lost.append(std::move(p->waiting));
      p->waiting.clear();
      p->sending = p->closing = nullptr;
    };
    for (auto& [address, p] : c.by_address) drain(p);
    for (auto& [incarnation, p] : c.by_incarnation) drain(p);
    for (const auto& ch : c.channels) {
      if (ch->conn) conns.push_back(ch->conn);
      ch->owner = nullptr;
    }
    c.channels.clear();
    c.by_address.clear();
    c.by_incarnation.clear();
  }
  if (listener) listener->close();
  for (auto& conn : conns) lost.append(conn->abort());
  c.give_up(lost, error(errc::stopped, "the transport shut down"));
  c.link.close();
}

}  // namespace coactor
