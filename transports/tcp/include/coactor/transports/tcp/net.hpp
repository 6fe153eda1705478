// coactor tcp: the sockets' side of the TCP transports: finding the io_context, connecting with a
// timeout, accepting.
//
// Sockets live on the io_context of the node's thread_pool, so their handlers run on the pool's workers,
// where the node expects deliveries (with one worker: on the node's only thread). Each connection, connect
// attempt and listener runs its handlers on a strand of its own: with several workers its handlers never
// run at once; with one worker a strand costs next to nothing.
//
// This header includes Asio: include it only in transport sources.
#pragma once

#include <coactor/result.hpp>
#include <coactor/time.hpp>
#include <coactor/transport.hpp>

#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/steady_timer.hpp>
#include <asio/strand.hpp>

#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace coactor::tcp {

using socket = asio::ip::tcp::socket;
using strand = asio::strand<asio::io_context::executor_type>;

/// The io_context of the thread_pool the host runs on; errc::io naming `transport_name` when the host's
/// scheduler is not a thread_pool (the simulator has its own transport).
result<asio::io_context*> io_context_of(transport_host& host, std::string_view transport_name);

/// Runs `fn` on `ex` (posted) while its io_context may be running; directly when it is stopped, which for
/// a node's own pool means no handler runs now (the node stops its pool before it shuts its transport
/// down). A handler posted to a context that never runs again is destroyed, not run, with the context.
void run_on(const strand& ex, std::function<void()> fn);

/// The socket options every TCP transport connection gets (TCP_NODELAY: frames are batched by the
/// writer, not by Nagle's algorithm).
void set_options(socket& s);

/// "a.b.c.d:port" or "[v6]:port" of an endpoint.
std::string to_string(const asio::ip::tcp::endpoint& e);

/// A timeout as messages say it: "1500ms".
std::string milliseconds(duration d);

/// Connects to `address` ("host:port", "[::1]:port"; a host name is resolved) within `timeout`.
/// `done` runs once, on `ex`: with the connected socket (options set), or errc::unreachable and the
/// reason (refused, timed out, no such host, malformed address).
void async_connect(const strand& ex, std::string address, duration timeout, std::function<void(result<socket>)> done);

/// A listening socket that accepts connections until closed.
class listener : public std::enable_shared_from_this<listener> {
 public:
  /// Each accepted connection (options set) or accept failure, on the listener's strand.
  using accept_handler = std::function<void(result<socket>)>;

  /// Binds `address` (port 0: a free port) and starts accepting. errc::io with the reason when the
  /// address cannot be bound (in use, not local) or is malformed.
  static result<std::shared_ptr<listener>> open(asio::io_context& io, std::string_view address, accept_handler on_accept);

  /// The address bound: the host as given (a name stays a name; "0.0.0.0" stays), the actual port.
  const node_address& address() const noexcept { return address_; }

  /// Stops accepting. Thread-safe.
  void close();

  listener(asio::io_context& io, accept_handler on_accept);

 private:
  void accept();

  strand strand_;
  asio::ip::tcp::acceptor acceptor_;
  asio::steady_timer retry_;
  accept_handler on_accept_;
  node_address address_;
  bool closed_ = false;  // on the strand
};

}  // namespace coactor::tcp
