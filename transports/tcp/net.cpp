#include <coactor/scheduler.hpp>
#include <coactor/transports/tcp/address.hpp>
#include <coactor/transports/tcp/net.hpp>

#include <asio/connect.hpp>
#include <asio/post.hpp>

#include <chrono>

namespace coactor::tcp {

result<asio::io_context*> io_context_of(transport_host& host, std::string_view transport_name) {
  asio::io_context* io = host.scheduler().io_context();
  if (!io)
    return error(errc::io, std::string(transport_name) +
                               " needs a scheduler with an io_context to run its sockets (a coactor::thread_pool); "
                               "this node's scheduler has none");
  return io;
}

void run_on(const strand& ex, std::function<void()> fn) {
  if (ex.get_inner_executor().context().stopped())
    fn();
  else
    asio::post(ex, std::move(fn));
}

void set_options(socket& s) {
  std::error_code ignored;
  s.set_option(asio::ip::tcp::no_delay(true), ignored);
}

std::string to_string(const asio::ip::tcp::endpoint& e) { return node_address{e.address().to_string(), e.port()}.to_string(); }

std::string milliseconds(duration d) {
  return std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(d).count()) + "ms";
}

namespace {

// One connection attempt; every handler runs on the strand, and `finished` makes the first outcome win.
struct connect_op : std::enable_shared_from_this<connect_op> {
  connect_op(const strand& ex, std::string a, std::function<void(result<socket>)> d)
      : address(std::move(a)), done(std::move(d)), resolver(ex), sock(ex), timer(ex) {}

  std::string address;
  std::function<void(result<socket>)> done;
  asio::ip::tcp::resolver resolver;
  socket sock;
  asio::steady_timer timer;
  bool finished = false;

  void fail(std::string why) {
    if (finished) return;
    finished = true;
    timer.cancel();
    resolver.cancel();
    std::error_code ignored;
    sock.close(ignored);
    auto d = std::move(done);
    d(error(errc::unreachable, "connect to " + address + ": " + why));
  }

  void connected(const std::error_code& ec) {
    if (finished) return;
    if (ec) return fail(ec.message());
    finished = true;
    timer.cancel();
    set_options(sock);
    auto d = std::move(done);
    d(std::move(sock));
  }

  void start(duration timeout) {
    auto parsed = parse_address(address);
    if (!parsed) return fail(parsed.error().detail());
    timer.expires_after(timeout);
    timer.async_wait([self = shared_from_this(), timeout](const std::error_code& ec) {
      if (!ec) self->fail("no connection within " + milliseconds(timeout));
    });
    std::error_code ec;
    const asio::ip::address ip = asio::ip::make_address(parsed->host, ec);
    if (!ec) {
      sock.async_connect(asio::ip::tcp::endpoint(ip, parsed->port),
                         [self = shared_from_this()](const std::error_code& e) { self->connected(e); });
      return;
    }
    resolver.async_resolve(parsed->host, std::to_string(parsed->port),
                           [self = shared_from_this()](const std::error_code& e,
                                                       asio::ip::tcp::resolver::results_type results) {
                             if (self->finished) return;
                             if (e) return self->fail("cannot resolve: " + e.message());
                             asio::async_connect(self->sock, results,
                                                 [self](const std::error_code& e2, const asio::ip::tcp::endpoint&) {
                                                   self->connected(e2);
                                                 });
                           });
  }
};

}  // namespace

void async_connect(const strand& ex, std::string address, duration timeout, std::function<void(result<socket>)> done) {
  auto op = std::make_shared<connect_op>(ex, std::move(address), std::move(done));
  asio::post(ex, [op, timeout] { op->start(timeout); });
}

listener::listener(asio::io_context& io, accept_handler on_accept)
    : strand_(asio::make_strand(io)), acceptor_(strand_), retry_(strand_), on_accept_(std::move(on_accept)) {}

result<std::shared_ptr<listener>> listener::open(asio::io_context& io, std::string_view address, accept_handler on_accept) {
  auto parsed = parse_address(address);
  if (!parsed) return error(errc::io, "listen: " + parsed.error().detail());
  asio::ip::tcp::endpoint endpoint;
  std::error_code ec;
  const asio::ip::address ip = asio::ip::make_address(parsed->host, ec);
  if (!ec) {
    endpoint = asio::ip::tcp::endpoint(ip, parsed->port);
  } else {
    asio::ip::tcp::resolver resolver(io);
    auto results = resolver.resolve(parsed->host, std::to_string(parsed->port), asio::ip::tcp::resolver::passive, ec);
    if (ec || results.empty())
      return error(errc::io, "listen on " + std::string(address) + ": cannot resolve " + parsed->host + ": " +
                                 (ec ? ec.message() : std::string("no address")));
    endpoint = results.begin()->endpoint();
  }
  auto l = std::make_shared<listener>(io, std::move(on_accept));
  auto fail = [&](const char* step) {
    return error(errc::io, "listen on " + std::string(address) + ": " + step + ": " + ec.message());
  };
  l->acceptor_.open(endpoint.protocol(), ec);
  if (ec) return fail("open");
  // Lets a restarted node bind its port while connections of its previous run are in TIME_WAIT; a port
  // another socket listens on is still refused (EADDRINUSE).
  l->acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
  l->acceptor_.bind(endpoint, ec);
  if (ec) return fail("bind");
  l->acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return fail("listen");
  const auto bound = l->acceptor_.local_endpoint(ec);
  if (ec) return fail("local_endpoint");
  l->address_ = node_address{parsed->host, bound.port()};
  asio::post(l->strand_, [l] { l->accept(); });
  return l;
}

void listener::accept() {
  if (closed_) return;
  acceptor_.async_accept([self = shared_from_this()](const std::error_code& ec, socket s) {
                           if (self->closed_ || ec == asio::error::operation_aborted) return;
                           if (ec) {
                             // Out of descriptors and the like: say so, and try again a little later
                             // rather than spinning.
                             self->on_accept_(error(errc::io, "accept on " + self->address_.to_string() + ": " + ec.message()));
                             self->retry_.expires_after(std::chrono::milliseconds(50));
                             self->retry_.async_wait([self](const std::error_code& e) {
                               if (!e) self->accept();
                             });
                             return;
                           }
                           set_options(s);
                           self->on_accept_(std::move(s));
                           self->accept();
                         });
}

void listener::close() {
  run_on(strand_, [self = shared_from_this()] {
    if (self->closed_) return;
    self->closed_ = true;
    std::error_code ignored;
    self->acceptor_.close(ignored);
    self->retry_.cancel();
    self->on_accept_ = nullptr;  // drops what the handler holds (the transport's state)
  });
}

}  // namespace coactor::tcp
