#include <coactor/transports/tcp/transport_core.hpp>

#include <algorithm>
#include <optional>
#include <vector>

namespace coactor::tcp {
namespace {

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

/// A connection this node closed because of what the peer sent.
bool refused_by_us(const error& why) {
  return why == errc::protocol || why == errc::too_large || why == errc::bad_message;
}

/// The peer, for messages: where it listens, once its hello said so; its endpoint otherwise.
std::string describe(const connection& conn, bool opened) {
  return opened && !conn.peer().address.empty() ? conn.peer().address : conn.remote();
}

/// A node, for messages: its name and where it listens.
std::string describe(const node_identity& peer) {
  return "'" + peer.name + "' (" + (peer.address.empty() ? "incarnation " + std::to_string(peer.incarnation) : peer.address) + ")";
}

}  // namespace

transport_core::transport_core(std::string name, connection_options peer_options)
    : name_(std::move(name)), peer_options_(std::move(peer_options)) {}

transport_core::~transport_core() = default;

// ---- the transport's operations ----

void transport_core::attach(transport_host& host) {
  link_.attach(host);
  attached_ = host.identity();
  self_.store(&attached_, std::memory_order_release);
  auto io = io_context_of(host, name_);
  if (io)
    io_ = *io;
  else
    no_io_ = io.error();
}

result<node_address> transport_core::listen(std::string_view address) {
  if (!io_) return no_io_;
  std::lock_guard lock(mutex_);
  if (stopped_) return error(errc::stopped, "the transport shut down");
  if (listener_) return error(errc::io, name_ + ": already listening at " + listener_->address().to_string());
  auto l = listener::open(*io_, address, [w = weak_from_this()](result<socket> s) {
    if (auto c = w.lock()) c->accepted(std::move(s));
  });
  if (!l) return l.error();
  listener_ = *l;
  listening_ = attached_;
  listening_.address = listener_->address().to_string();
  self_.store(&listening_, std::memory_order_release);
  return listener_->address();
}

void transport_core::send(const peer_ref& peer, std::string_view frame) {
  // A frame the peer would refuse for its size (with the same limits as ours): said now, to its sender,
  // rather than written and refused there (a pooled peer would then close the connection under others).
  if (const std::size_t length = frame.size() - wire::length_bytes; length > peer_options_.limits.max_frame_bytes) {
    const error why(errc::too_large, name_ + ": frame of " + std::to_string(length) + " bytes exceeds the limit of " +
                                         std::to_string(peer_options_.limits.max_frame_bytes));
    link_.call([&](transport_host& host) { host.undeliverable(frame, why); });
    return;
  }
  if (io_) return policy_->send(peer, frame);
  link_.call([&](transport_host& host) { host.undeliverable(frame, no_io_); });
}

void transport_core::shutdown() {
  std::shared_ptr<listener> l;
  std::unordered_map<const connection*, peer_connection> conns;
  {
    std::lock_guard lock(mutex_);
    if (stopped_) return;
    stopped_ = true;
    l = std::move(listener_);
    conns.swap(connections_);
    up_.clear();
    up_at_.clear();
  }
  if (l) l->close();
  // Every peer hears why the connection closes (a bye, where the stream allows one): it reports this
  // node down at once rather than after its timeout.
  const error farewell(errc::stopped, "the node shut down");
  for (const auto& [key, c] : conns) c.conn->set_farewell(farewell);
  policy_->stop();
  // What is left on them is the core's own (acks); the policy took its frames back in stop().
  for (const auto& [key, c] : conns) static_cast<void>(c.conn->abort());
  link_.close();  // releases the work the acks held
}

// ---- for the policy ----

std::shared_ptr<connection> transport_core::open(socket s, strand ex) {
  auto conn = connection::make(std::move(s), std::move(ex), peer_options_, handlers_for(false));
  std::lock_guard lock(mutex_);
  if (stopped_) return nullptr;  // the socket closes as it goes
  connections_.emplace(conn.get(), peer_connection{conn});
  return conn;
}

void transport_core::start(connection& conn) {
  conn.start(*self_.load(std::memory_order_acquire), policy_->mode());
}

void transport_core::give_up(const frame_queue& frames, const error& why) {
  if (frames.empty()) return;
  link_.call([&](transport_host& host) { frames.for_each([&](std::string_view f) { host.undeliverable(f, why); }); });
  link_.release(frames.frames());
}

void transport_core::report(const error& what) {
  link_.call([&](transport_host& host) { host.report(what); });
}

// ---- peer connections ----

connection::handlers transport_core::handlers_for(bool accepted) {
  connection::handlers h;
  std::weak_ptr<transport_core> w = weak_from_this();
  auto r = std::make_shared<reading>();  // the handlers run on the connection's strand, one at a time
  h.hello = [w, accepted, r](connection& conn, const wire::hello& hello) {
    if (auto c = w.lock()) c->opened(conn, hello, accepted, *r);
  };
  h.frames = [w, accepted, r](connection& conn, std::string_view frames) {
    if (auto c = w.lock())
      c->dispatch(conn, frames, accepted && conn.peer_mode() == wire::connection_mode::per_message, *r);
  };
  h.written = [w](connection&, std::size_t n) {  // frames the policy gave, or acks
    if (auto c = w.lock()) c->link_.release(n);
  };
  // An acknowledgement not written yet is work: run() does not return before the peer has it.
  h.ack_pending = [w](connection&, bool waiting) {
    if (auto c = w.lock()) waiting ? static_cast<void>(c->link_.hold(1)) : c->link_.release(1);
  };
  h.idle = [](connection& conn) { conn.send_bye_and_finish(error(errc::timeout, "idle")); };
  h.silent = [w](connection& conn, const error& why) {
    if (auto c = w.lock()) c->peer_lost(conn.peer().incarnation, why);  // closes its connections
    conn.close(why);  // (this one in any case)
  };
  h.closed = [w, accepted](connection& conn, connection_end end) {
    if (auto c = w.lock()) c->closed(conn, std::move(end), accepted);
  };
  return h;
}

void transport_core::accepted(result<socket> s) {
  if (!s) return report(s.error());
  auto conn = connection::make(std::move(*s), asio::make_strand(*io_), peer_options_, handlers_for(true));
  {
    std::lock_guard lock(mutex_);
    if (stopped_) return;
    connections_.emplace(conn.get(), peer_connection{conn});
  }
  start(*conn);
}

void transport_core::opened(connection& conn, const wire::hello& hello, bool accepted, reading& r) {
  const bool acks = accepted && hello.mode != wire::connection_mode::pooled;  // it carries acks back, nothing else
  {
    std::lock_guard lock(mutex_);
    if (auto it = connections_.find(&conn); it != connections_.end()) {
      it->second.incarnation = hello.node.incarnation;
      it->second.acks = acks;
    }
    std::shared_ptr<inbound>& in = inbound_[hello.node.incarnation];
    if (!in) {
      in = std::make_shared<inbound>();
      in->peer = hello.node;
    }
    r.from = in;
  }
  // The policy first: a hello from a new incarnation at a known address moves the peer's connection to
  // it before the old incarnation is reported down (and what the policy held for it given back).
  if (!acks && (!accepted || policy_->sends_on_accepted())) policy_->opened(conn, hello, accepted);
  peer_seen(hello.node, [&] {  // before any frame of this connection is delivered
    std::lock_guard lock(mutex_);
    return connections_.count(&conn) != 0;
  });
}

void transport_core::dispatch(connection& conn, std::string_view frames, bool acked, reading& r) {
  bool bye = false;
  error gone{std::error_code{}};  // the peer's bye said it shut down
  std::optional<wire::stream_position> ours;  // the peer's acknowledgement of this node's frames
  std::optional<wire::stream_position> theirs;  // what to acknowledge of the peer's
  error refused{std::error_code{}};
  inbound& in = *r.from;  // (set at the hello, which comes before any frame)
  const bool open = link_.call([&](transport_host& host) {
    std::lock_guard delivering(in.mutex);
    while (!frames.empty() && !bye) {
      const std::size_t n = frame_queue::size_of(frames);
      const std::string_view f = frames.substr(0, n);
      frames.remove_prefix(n);
      const wire::frame_kind kind = frame_queue::kind_of(f);
      if (kind == wire::frame_kind::heartbeat) continue;  // it has done its work by arriving
      if ((kind == wire::frame_kind::resume || kind == wire::frame_kind::received) && conn.sequenced()) {
        auto parsed = wire::parse_frame(f, 0, {});
        auto at = parsed ? wire::read_stream_position(parsed->payload) : result<wire::stream_position>(parsed.error());
        if (!at) {  // the stream can no longer be followed: the connection ends, and a new one resumes it
          refused = error(errc::protocol, "frame of kind " + std::to_string(static_cast<int>(kind)) + ": " +
                                              at.error().detail());
          break;
        }
        if (kind == wire::frame_kind::received) {
          ours = *at;
          continue;
        }
        r.stream = at->stream;
        r.next = at->seq;
        if (at->stream > in.stream) {  // a new stream: what came before it was given up by its sender
          in.stream = at->stream;
          in.delivered = at->seq - 1;
        }
        // Said again on this connection: the acknowledgement of what came before may have been lost
        // with the old one, and what follows may all be dropped as delivered already.
        if (in.stream == at->stream && in.delivered > 0) theirs = wire::stream_position{in.stream, in.delivered};
        continue;
      }
      const bool data = wire::is_data(kind);
      if (r.stream != 0 && data) {
        const std::uint64_t number = r.next++;
        if (r.stream != in.stream || number <= in.delivered) {  // delivered already, or given up by its sender
          ++in.duplicates;
          if (in.delivered > 0) theirs = wire::stream_position{in.stream, in.delivered};
          continue;
        }
        in.delivered = number;
        theirs = wire::stream_position{in.stream, number};
      }
      if (data) ++in.received;
      if (kind == wire::frame_kind::bye) {
        bye = true;  // nothing may follow it
        auto parsed = wire::parse_frame(f, 0, {});
        auto status = parsed ? wire::read_status(parsed->payload) : result<wire::status>(parsed.error());
        if (status && status->code == static_cast<int>(errc::stopped)) gone = status->to_error();
        continue;
      }
      // A data frame, or one the node refuses and reports (an unknown kind, a hello or ack out of place):
      // the length delimits it, so the connection goes on either way.
      const result<void> taken = host.deliver(conn.peer(), f);
      if (!acked) continue;
      // After the delivery: the sender's next frame waits for this ack. Held as work until written, so
      // that this node's run() does not return with the ack unsent.
      link_.hold(1);
      if (!conn.send(taken ? ack_frame() : refusal_frame(taken.error()))) link_.release(1);
    }
  });
  if (!open) return conn.close(error(errc::stopped, "the transport shut down"));
  if (theirs) {
    thread_local std::string ack;
    ack.clear();
    wire::write_stream_frame(ack, wire::frame_kind::received, *theirs);
    conn.acknowledge(ack, theirs->seq - r.acknowledged >= urgent_ack_after || theirs->seq < r.acknowledged);
    r.acknowledged = theirs->seq;
  }
  if (ours) policy_->acknowledged(conn.peer(), *ours);
  if (refused.code()) return conn.refuse(refused);
  if (gone.code())  // aborts its pooled connections, this one too
    peer_lost(conn.peer().incarnation, error(errc::stopped, describe(conn.peer()) + " said goodbye: " + gone.detail()));
  if (bye) conn.finish(false);  // the peer closes: flush what it has been given, then shut our side down
}

void transport_core::closed(connection& conn, connection_end end, bool accepted) {
  bool stopping;
  {
    std::lock_guard lock(mutex_);
    stopping = stopped_;
    connections_.erase(&conn);
  }
  if (!end.graceful && !stopping) {
    if (refused_by_us(end.why))
      report(error(end.why.code(), name_ + ": refused the connection with " + describe(conn, end.opened) + ": " +
                                       end.why.detail()));
    else if (accepted && !end.opened)
      report(error(end.why.code(), name_ + ": handshake from " + conn.remote() + " failed: " + end.why.detail()));
  }
  if (accepted && end.opened && conn.peer_mode() == wire::connection_mode::per_message)
    link_.release(end.unwritten.frames());  // acks that will not be written
  else
    policy_->closed(conn, end);
}

// ---- failure detection ----

transport_core::baton::baton(transport_core& core) : core_(core) {
  std::unique_lock lock(core_.baton_mutex_);
  if (core_.baton_held_ && core_.baton_holder_ == std::this_thread::get_id()) {
    nested_ = true;  // a host call of this thread's event came back here: it goes on inside it
    return;
  }
  core_.baton_free_.wait(lock, [&] { return !core_.baton_held_; });
  core_.baton_held_ = true;
  core_.baton_holder_ = std::this_thread::get_id();
}

transport_core::baton::~baton() {
  if (nested_) return;
  {
    std::lock_guard lock(core_.baton_mutex_);
    core_.baton_held_ = false;
    core_.baton_holder_ = {};
  }
  core_.baton_free_.notify_one();
}

void transport_core::peer_seen(const node_identity& peer, const std::function<bool()>& in_use) {
  baton held(*this);
  if (in_use && !in_use()) return;
  std::optional<node_identity> replaced;  // the incarnation that was up at its address
  {
    std::lock_guard lock(mutex_);
    if (stopped_ || !up_.emplace(peer.incarnation, peer).second) return;
    if (!peer.address.empty()) {
      auto [at, fresh] = up_at_.emplace(peer.address, peer.incarnation);
      if (!fresh) {
        if (auto old = up_.find(at->second); old != up_.end()) {
          replaced = std::move(old->second);
          up_.erase(old);
        }
        at->second = peer.incarnation;
      }
    }
  }
  if (replaced)
    tell_down(*replaced, error(errc::node_down, describe(*replaced) + " restarted (its address now has incarnation " +
                                                    std::to_string(peer.incarnation) + ")"));
  link_.call([&](transport_host& host) { host.peer_up(peer); });
}

void transport_core::peer_lost(std::uint64_t incarnation, const error& why) {
  baton held(*this);
  node_identity peer;
  {
    std::lock_guard lock(mutex_);
    auto it = up_.find(incarnation);
    if (stopped_ || it == up_.end()) return;
    peer = std::move(it->second);
    up_.erase(it);
    if (auto at = up_at_.find(peer.address); at != up_at_.end() && at->second == incarnation) up_at_.erase(at);
  }
  tell_down(peer, why);
}

std::uint64_t transport_core::up_at(std::string_view address) {
  std::lock_guard lock(mutex_);
  auto at = up_at_.find(std::string(address));
  return at != up_at_.end() ? at->second : 0;
}

void transport_core::peer_lost_at(std::string_view address, const error& why) {
  if (const std::uint64_t incarnation = up_at(address)) peer_lost(incarnation, why);
}

std::vector<peer_stats> transport_core::peers() const {
  std::vector<peer_stats> all = policy_->peers();
  std::vector<std::shared_ptr<inbound>> from;
  {
    std::lock_guard lock(mutex_);
    for (const auto& [incarnation, in] : inbound_) from.push_back(in);
  }
  for (const auto& in : from) {
    std::lock_guard lock(in->mutex);
    auto it = std::find_if(all.begin(), all.end(), [&](const peer_stats& p) { return p.peer.incarnation == in->peer.incarnation; });
    if (it == all.end()) {
      all.push_back(peer_stats{.peer = in->peer});
      it = all.end() - 1;
    }
    it->received += in->received;
    it->duplicates += in->duplicates;
  }
  return all;
}

std::size_t transport_core::break_connections() {
  std::vector<std::shared_ptr<connection>> conns;
  {
    std::lock_guard lock(mutex_);
    for (const auto& [key, c] : connections_) conns.push_back(c.conn);
  }
  for (const auto& conn : conns) conn->reset(error(errc::unreachable, "connection broken on purpose (break_connections)"));
  return conns.size();
}

void transport_core::tell_down(const node_identity& peer, const error& why) {
  frame_queue held = policy_->forget(peer);
  // Its pooled connections: those of the policy are aborted already (their frames are in `held`); the
  // others (accepted, not sent on) close here. A per-message peer's connections, which carry only its
  // acks, end by themselves, acks written.
  std::vector<std::shared_ptr<connection>> conns;
  {
    std::lock_guard lock(mutex_);
    for (auto it = connections_.begin(); it != connections_.end();) {
      if (it->second.incarnation != peer.incarnation || it->second.acks) {
        ++it;
        continue;
      }
      conns.push_back(std::move(it->second.conn));
      it = connections_.erase(it);
    }
  }
  for (const auto& conn : conns) held.append(conn->abort());
  give_up(held, error(errc::node_down, describe(peer) + " is down: " + why.detail()));
  link_.call([&](transport_host& host) { host.peer_down(peer, why); });
}

}  // namespace coactor::tcp
