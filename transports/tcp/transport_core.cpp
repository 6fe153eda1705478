#include <coactor/transports/tcp/transport_core.hpp>

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
  std::unordered_set<std::shared_ptr<connection>> conns;
  {
    std::lock_guard lock(mutex_);
    if (stopped_) return;
    stopped_ = true;
    l = std::move(listener_);
    conns.swap(connections_);
  }
  if (l) l->close();
  policy_->stop();
  // What is left on them is the core's own (acks); the policy took its frames back in stop().
  for (const auto& conn : conns) static_cast<void>(conn->abort());
  link_.close();  // releases the work the acks held
}

// ---- for the policy ----

std::shared_ptr<connection> transport_core::open(socket s, strand ex) {
  auto conn = connection::make(std::move(s), std::move(ex), peer_options_, handlers_for(false));
  std::lock_guard lock(mutex_);
  if (stopped_) return nullptr;  // the socket closes as it goes
  connections_.insert(conn);
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
  if (!accepted || policy_->sends_on_accepted())
    h.hello = [w, accepted](connection& conn, const wire::hello& hello) {
      if (auto c = w.lock()) c->opened(conn, hello, accepted);
    };
  h.frames = [w, accepted](connection& conn, std::string_view frames) {
    if (auto c = w.lock()) c->dispatch(conn, frames, accepted && conn.peer_mode() == wire::connection_mode::per_message);
  };
  h.written = [w](connection&, std::size_t n) {  // frames the policy gave, or acks
    if (auto c = w.lock()) c->link_.release(n);
  };
  h.idle = [](connection& conn) { conn.send_bye_and_finish(error(errc::timeout, "idle")); };
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
    connections_.insert(conn);
  }
  start(*conn);
}

void transport_core::opened(connection& conn, const wire::hello& hello, bool accepted) {
  if (accepted && hello.mode != wire::connection_mode::pooled) return;  // it carries acks back, nothing else
  policy_->opened(conn, hello, accepted);
}

void transport_core::dispatch(connection& conn, std::string_view frames, bool acked) {
  bool bye = false;
  const bool open = link_.call([&](transport_host& host) {
    while (!frames.empty() && !bye) {
      const std::size_t n = frame_queue::size_of(frames);
      const std::string_view f = frames.substr(0, n);
      frames.remove_prefix(n);
      if (frame_queue::kind_of(f) == wire::frame_kind::bye) {
        bye = true;  // nothing may follow it
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
  if (bye) conn.finish(false);  // the peer closes: flush what it has been given, then shut our side down
}

void transport_core::closed(connection& conn, connection_end end, bool accepted) {
  bool stopping;
  {
    std::lock_guard lock(mutex_);
    stopping = stopped_;
    connections_.erase(conn.shared_from_this());
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

}  // namespace coactor::tcp
