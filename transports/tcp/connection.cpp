#include <coactor/transports/tcp/connection.hpp>

#include <cstring>

#include <asio/bind_executor.hpp>
#include <asio/dispatch.hpp>
#include <asio/post.hpp>
#include <asio/write.hpp>

#include <algorithm>

namespace coactor::tcp {
namespace {

constexpr std::size_t initial_buffer = 64 * 1024;

}  // namespace

connection::connection(socket s, strand ex, connection_options options, handlers h)
    : strand_(std::move(ex)),
      socket_(std::move(s)),
      options_(std::move(options)),
      handlers_(std::move(h)),
      handshake_timer_(strand_),
      close_timer_(strand_),
      watch_timer_(strand_),
      ack_timer_(strand_),
      last_read_(std::chrono::steady_clock::now()),
      last_write_(last_read_) {
  std::error_code ec;
  socket_.non_blocking(true, ec);  // write_batch() writes directly when the socket has room
  const auto endpoint = socket_.remote_endpoint(ec);
  remote_ = ec ? std::string("(unknown peer)") : to_string(endpoint);
}

connection::~connection() = default;

bool connection::detached() const {
  std::lock_guard lock(mutex_);
  return detached_;
}

// ---- starting ----

void connection::start(const node_identity& self, wire::connection_mode mode) {
  std::string greeting;
  const auto beat = std::chrono::duration_cast<std::chrono::milliseconds>(options_.heartbeat_interval);
  wire::write_greeting(greeting, self, mode, options_.versions,
                       options_.heartbeat_interval > duration::zero() ? std::max(beat, std::chrono::milliseconds(1)) : beat,
                       options_.sequenced);
  {
    std::lock_guard lock(mutex_);
    prefix_ = std::move(greeting);
    started_ = true;
    schedule_write_locked();
  }
  asio::dispatch(strand_, [self_ = shared_from_this()] { self_->begin(); });
}

void connection::begin() {
  if (closing_) return;
  buf_.reallocate(initial_buffer, 0);
  handshake_timer_.expires_after(options_.handshake_timeout);
  handshake_timer_.async_wait([self = shared_from_this()](const std::error_code& ec) {
    if (ec || self->opened_ || self->closing_ || self->phase_ == phase::discard) return;
    self->handshake_failed(error(errc::timeout, "no handshake from " + self->remote_ + " within " +
                                                    milliseconds(self->options_.handshake_timeout)),
                           false);
  });
  read();
}

// ---- writing ----

bool connection::send(std::string_view frame) {
  std::lock_guard lock(mutex_);
  if (!accepting_) return false;
  outbox_.append(frame);
  schedule_write_locked();
  return true;
}

bool connection::send(frame_queue& frames) {
  std::lock_guard lock(mutex_);
  if (!accepting_) return false;
  outbox_.append(std::move(frames));
  schedule_write_locked();
  return true;
}

void connection::acknowledge(std::string_view received, bool urgent) {
  if (closing_ || finishing_) return;  // (a connection closing gracefully is read to its end by the peer)
  bool fresh, wait;
  {
    std::lock_guard lock(mutex_);
    if (detached_) return;
    fresh = ack_.empty();
    ack_.assign(received);
    wait = !urgent && !writing_;
    if (!wait) schedule_write_locked();  // (a write in flight: the next batch takes it)
  }
  if (fresh && handlers_.ack_pending) handlers_.ack_pending(*this, true);
  if (!wait || ack_timer_armed_) return;
  ack_timer_armed_ = true;
  ack_timer_.expires_after(options_.ack_delay);
  ack_timer_.async_wait([self = shared_from_this()](const std::error_code& ec) {
    self->ack_timer_armed_ = false;
    if (!ec) self->on_ack_due();
  });
}

void connection::on_ack_due() {
  if (closing_ || finishing_) return;
  std::lock_guard lock(mutex_);
  if (!ack_.empty()) schedule_write_locked();
}

void connection::schedule_write_locked() {
  if (writing_ || !started_ || detached_) return;
  if (outbox_.empty() && prefix_.empty() && trailer_.empty() && ack_.empty()) return;
  writing_ = true;
  asio::post(strand_, [self = shared_from_this()] { self->write_next(); });
}

void connection::write_next() {
  while (write_batch()) {
  }
}

bool connection::write_batch() {
  bool took_ack = false;
  {
    std::lock_guard lock(mutex_);
    if (!closing_ && !detached_) {
      // inflight_ and the outbox swap buffers (take() below), so both keep their capacity from batch to
      // batch; the rare prefix (handshake bytes) is copied in rather than swapped, not to break that.
      inflight_.clear();
      inflight_.append(prefix_);
      prefix_.clear();
      took_ack = !ack_.empty();
      inflight_.append(ack_);
      ack_.clear();
      inflight_prefix_ = inflight_.size();
      inflight_frames_ = outbox_.take(inflight_, options_.max_batch_bytes);
      inflight_frames_end_ = inflight_.size();
      if (outbox_.empty() && !trailer_.empty()) {
        inflight_ += trailer_;
        trailer_.clear();
      }
    } else {
      inflight_.clear();
    }
    if (inflight_.empty()) writing_ = false;
  }
  if (took_ack && handlers_.ack_pending && !detached()) handlers_.ack_pending(*this, false);
  if (closing_) {
    complete_close();
    return false;
  }
  if (inflight_.empty()) {
    progress_finish();  // drained
    return false;
  }
  // Most batches fit in the socket's buffer: written at once, with no completion handler to wait for
  // (the socket is non-blocking). What does not fit goes out asynchronously.
  std::error_code ec;
  const std::size_t n = socket_.write_some(asio::buffer(inflight_), ec);
  const bool no_room = ec == asio::error::would_block || ec == asio::error::try_again;
  if (!no_room && (ec || n == inflight_.size())) return written(ec, n);
  asio::async_write(socket_, asio::buffer(inflight_) + n,
                    asio::bind_executor(strand_, [self = shared_from_this(), n](const std::error_code& e, std::size_t m) {
                      if (self->written(e, n + m)) self->write_next();
                    }));
  return false;
}

bool connection::written(const std::error_code& ec, std::size_t n) {
  std::size_t done = 0;
  {
    std::lock_guard lock(mutex_);
    if (!ec) {
      done = inflight_frames_;
    } else {
      // Frames entirely within the n bytes written are written; the rest go back to the front of the
      // outbox, where close reports them as unwritten.
      std::string_view frames = std::string_view(inflight_).substr(inflight_prefix_, inflight_frames_end_ - inflight_prefix_);
      const std::size_t sent = n > inflight_prefix_ ? n - inflight_prefix_ : 0;
      std::size_t offset = 0;
      while (done < inflight_frames_) {
        const std::size_t size = frame_queue::size_of(frames.substr(offset));
        if (offset + size > sent) break;
        offset += size;
        ++done;
      }
      frame_queue rest;
      frames.remove_prefix(offset);
      while (!frames.empty()) {
        const std::size_t size = frame_queue::size_of(frames);
        rest.append(frames.substr(0, size));
        frames.remove_prefix(size);
      }
      outbox_.prepend(std::move(rest));
    }
    written_ += done;
    inflight_.clear();
    inflight_frames_ = 0;
    inflight_prefix_ = inflight_frames_end_ = 0;
    // On success writing_ stays set: write_next() takes the next batch (or clears it), and no send()
    // schedules a second write meanwhile.
    if (ec || closing_) writing_ = false;
  }
  if (done && handlers_.written && !detached()) handlers_.written(*this, done);
  if (closing_) {
    complete_close();
    return false;
  }
  if (ec) {
    fail(error(errc::unreachable, "writing to " + remote_ + ": " + ec.message()));
    return false;
  }
  last_write_ = std::chrono::steady_clock::now();
  return true;
}

// ---- reading ----

void connection::read() {
  if (closing_ || eof_read_) return;
  // Room for the frame being read, and for a useful read beyond it.
  const std::size_t need = std::max(wanted_, std::size_t{4096});
  if (buf_.size() - start_ < need || buf_.size() - end_ < 4096) {
    if (start_ > 0) {
      std::memmove(buf_.data(), buf_.data() + start_, end_ - start_);
      end_ -= start_;
      start_ = 0;
    }
    if (buf_.size() < need + 4096) buf_.reallocate(std::max(buf_.size() * 2, need + 4096), end_);
  }
  socket_.async_read_some(asio::buffer(buf_.data() + end_, buf_.size() - end_),
                          asio::bind_executor(strand_, [self = shared_from_this()](const std::error_code& ec, std::size_t n) {
                            self->on_read(ec, n);
                          }));
}

void connection::on_read(const std::error_code& ec, std::size_t n) {
  if (closing_) return;
  if (ec == asio::error::eof) {
    eof_read_ = true;
    if (finishing_) return progress_finish();
    if (!opened_) return fail(error(errc::unreachable, remote_ + " closed the connection during the handshake"));
    return fail(error(errc::unreachable, "connection closed by " + remote_));
  }
  if (ec) {
    reset_read_ = true;
    return fail(error(errc::unreachable, "reading from " + remote_ + ": " + ec.message()));
  }
  end_ += n;
  last_read_ = std::chrono::steady_clock::now();
  process();
  if (start_ == end_) {
    start_ = end_ = 0;
    if (buf_.size() > 4 * initial_buffer) buf_.reallocate(initial_buffer, 0);  // a large frame went through
  }
  read();
}

void connection::process() {
  while (!closing_ && start_ < end_) {
    std::string_view avail(buf_.data() + start_, end_ - start_);
    wanted_ = 0;
    switch (phase_) {
      case phase::preamble: {
        if (avail.size() < wire::preamble_bytes) {
          wanted_ = wire::preamble_bytes;
          return;
        }
        auto agreed = wire::check_preamble(avail.substr(0, wire::preamble_bytes), options_.versions);
        if (!agreed) return handshake_failed(error(errc::protocol, remote_ + ": " + agreed.error().detail()), true);
        version_ = *agreed;
        start_ += wire::preamble_bytes;
        phase_ = phase::hello;
        continue;
      }
      case phase::hello: {
        auto size = wire::frame_size(avail, options_.limits);
        if (!size) return handshake_failed(error(errc::protocol, remote_ + ": hello: " + size.error().detail()), true);
        if (*size == 0 || *size > avail.size()) {
          wanted_ = *size;
          return;
        }
        const std::string_view frame = avail.substr(0, *size);
        start_ += *size;
        if (frame.size() > wire::length_bytes && frame_queue::kind_of(frame) == wire::frame_kind::bye) {
          auto f = wire::parse_frame(frame, 0, {});
          auto status = f ? wire::read_status(f->payload) : result<wire::status>(f.error());
          const std::string reason = status ? status->to_error().message() : std::string("a malformed bye");
          return handshake_failed(error(errc::unreachable, remote_ + " refused the connection: " + reason), false);
        }
        auto h = wire::parse_hello(frame);
        if (!h) return handshake_failed(error(errc::protocol, remote_ + ": " + h.error().detail()), true);
        handshake_timer_.cancel();
        peer_ = h->node;
        peer_mode_ = h->mode;
        if (options_.heartbeat_interval > duration::zero() && h->heartbeat.count() > 0)
          silence_limit_ = std::max<duration>(options_.peer_timeout, h->heartbeat * 3 / 2);
        sequenced_.store(options_.sequenced && h->sequenced, std::memory_order_release);
        opened_ = true;
        phase_ = phase::frames;
        arm_watch();
        if (handlers_.hello && !detached()) handlers_.hello(*this, *h);
        continue;
      }
      case phase::frames: {
        std::size_t offset = 0;
        error bad{std::error_code{}};
        for (;;) {
          auto size = wire::frame_size(avail.substr(offset), options_.limits);
          if (!size) {
            bad = error(size.error().code(), "frame from " + remote_ + ": " + size.error().detail());
            break;
          }
          if (*size == 0 || *size > avail.size() - offset) {
            wanted_ = *size;
            break;
          }
          offset += *size;
        }
        if (offset > 0) {
          start_ += offset;
          if (handlers_.frames && !detached()) handlers_.frames(*this, avail.substr(0, offset));
        }
        if (bad.code() && !closing_) refuse(bad);
        return;
      }
      case phase::discard:
        start_ = end_;
        return;
    }
  }
}

// ---- closing ----

void connection::handshake_failed(const error& why, bool send_bye) {
  handshake_timer_.cancel();
  if (send_bye) return refuse(why);
  phase_ = phase::discard;
  fail(why);
}

void connection::refuse(const error& why) {
  if (closing_ || phase_ == phase::discard) return;
  phase_ = phase::discard;
  if (!end_why_.code()) end_why_ = why;
  {
    std::lock_guard lock(mutex_);
    accepting_ = false;
    wire::write_bye(trailer_, why);
    schedule_write_locked();
  }
  begin_finish(false);
}

void connection::finish(bool after_peer_eof) {
  {
    std::lock_guard lock(mutex_);
    accepting_ = false;
  }
  asio::dispatch(strand_, [self = shared_from_this(), after_peer_eof] { self->begin_finish(after_peer_eof); });
}

void connection::send_bye_and_finish(const error& why) {
  {
    std::lock_guard lock(mutex_);
    accepting_ = false;
    if (trailer_.empty()) wire::write_bye(trailer_, why);
    schedule_write_locked();
  }
  finish(true);
}

void connection::begin_finish(bool after_peer_eof) {
  if (closing_) return;
  if (!finishing_) {
    finishing_ = true;
    after_eof_ = after_peer_eof;
    watch_timer_.cancel();
    close_timer_.expires_after(options_.close_timeout);
    close_timer_.async_wait([self = shared_from_this()](const std::error_code& ec) {
      if (ec || self->closing_) return;
      self->fail(error(errc::timeout, "closing the connection to " + self->remote_ + " took longer than " +
                                          milliseconds(self->options_.close_timeout)));
    });
  } else if (!after_peer_eof) {
    after_eof_ = false;  // both sides asked to close: neither waits for the other's EOF
  }
  progress_finish();
}

void connection::progress_finish() {
  if (!finishing_ || closing_) return;
  bool flushed;
  {
    std::lock_guard lock(mutex_);
    flushed = !writing_ && outbox_.empty() && trailer_.empty() && prefix_.empty();
  }
  if (flushed && !send_shut_ && (!after_eof_ || eof_read_)) {
    std::error_code ignored;
    socket_.shutdown(socket::shutdown_send, ignored);
    send_shut_ = true;
  }
  if (send_shut_ && eof_read_) {
    closing_ = true;
    close_timer_.cancel();
    std::error_code ignored;
    socket_.close(ignored);
    complete_close();
  }
}

void connection::close(const error& why) {
  asio::dispatch(strand_, [self = shared_from_this(), why] { self->fail(why); });
}

void connection::reset(const error& why) {
  asio::dispatch(strand_, [self = shared_from_this(), why] {
    std::error_code ignored;
    self->socket_.set_option(asio::socket_base::linger(true, 0), ignored);
    self->fail(why);
  });
}

void connection::fail(const error& why) {
  if (closing_) return;
  closing_ = true;
  if (!end_why_.code()) end_why_ = why;
  handshake_timer_.cancel();
  close_timer_.cancel();
  watch_timer_.cancel();
  ack_timer_.cancel();
  std::error_code ignored;
  if (options_.reset_on_close) socket_.set_option(asio::socket_base::linger(true, 0), ignored);
  socket_.close(ignored);
  bool busy;
  {
    std::lock_guard lock(mutex_);
    accepting_ = false;
    busy = writing_;  // the write's completion (aborted now) finishes the close
  }
  if (!busy) complete_close();
}

void connection::complete_close() {
  if (ended_) return;
  ended_ = true;
  connection_end end;
  bool quiet, had_ack;
  {
    std::lock_guard lock(mutex_);
    had_ack = !ack_.empty();
    ack_.clear();
    end.unwritten = std::move(outbox_);
    outbox_.clear();
    end.written = written_;
    quiet = detached_;
  }
  end.opened = opened_;
  end.graceful = !end_why_.code() && finishing_ && send_shut_ && eof_read_;
  end.clean_eof = eof_read_ && !reset_read_ && end.unwritten.empty();
  end.why = end.graceful ? error(std::error_code{}) : end_why_;
  handlers h = std::move(handlers_);
  handlers_ = {};
  if (!quiet && had_ack && h.ack_pending) h.ack_pending(*this, false);
  if (!quiet && h.closed) h.closed(*this, std::move(end));
}

frame_queue connection::abort() {
  frame_queue unsent;
  {
    std::lock_guard lock(mutex_);
    if (detached_) return unsent;
    detached_ = true;
    accepting_ = false;
    if (inflight_frames_end_ > inflight_prefix_) {
      std::string_view frames = std::string_view(inflight_).substr(inflight_prefix_, inflight_frames_end_ - inflight_prefix_);
      while (!frames.empty()) {
        const std::size_t size = frame_queue::size_of(frames);
        unsent.append(frames.substr(0, size));
        frames.remove_prefix(size);
      }
    }
    unsent.append(std::move(outbox_));
    outbox_.clear();
  }
  run_on(strand_, [self = shared_from_this()] {
    bool had_ack;  // (nothing writes it any more, and the close below is quiet: released here)
    {
      std::lock_guard lock(self->mutex_);
      had_ack = !self->ack_.empty();
      self->ack_.clear();
    }
    if (had_ack && self->handlers_.ack_pending) self->handlers_.ack_pending(*self, false);
    self->write_farewell();
    self->fail(error(errc::stopped, "the transport shut down"));
    self->handlers_ = {};  // drops what the handlers hold, even if the close waits for a write
  });
  return unsent;
}

void connection::set_farewell(const error& why) {
  std::string bye;
  wire::write_bye(bye, why);
  std::lock_guard lock(mutex_);
  farewell_ = std::move(bye);
}

void connection::write_farewell() {
  if (!opened_ || closing_ || send_shut_) return;
  std::string bye;
  {
    std::lock_guard lock(mutex_);
    // Only between frames: nothing of a write in flight, nothing of ours queued before it.
    if (farewell_.empty() || !inflight_.empty() || !prefix_.empty() || !trailer_.empty()) return;
    bye.swap(farewell_);
  }
  std::error_code ignored;
  socket_.write_some(asio::buffer(bye), ignored);  // non-blocking: what does not fit is not sent
}

// ---- the watch: heartbeats, silence, idleness ----

void connection::arm_watch() {
  const bool idle = options_.idle_timeout > duration::zero();
  if (closing_ || finishing_ || (!idle && !heartbeats())) return;
  using clock = std::chrono::steady_clock;
  const auto now = clock::now();
  // A deadline `period` after `since`; one already past (a heartbeat queued and not written yet, bytes
  // waiting to be read, a long batch being written) is looked at again a period from now, not in a loop.
  auto after = [&](clock::time_point since, duration period) {
    const auto p = std::chrono::duration_cast<clock::duration>(period);
    return since + p > now ? since + p : now + p;
  };
  clock::time_point next = clock::time_point::max();
  if (idle) next = std::min(next, after(std::max(last_read_, last_write_), options_.idle_timeout));
  if (heartbeats()) {
    next = std::min(next, after(last_write_, options_.heartbeat_interval));
    next = std::min(next, after(last_read_, silence_limit_));
  }
  watch_timer_.expires_at(next);
  watch_timer_.async_wait([self = shared_from_this()](const std::error_code& ec) {
    if (!ec) self->on_watch();
  });
}

void connection::on_watch() {
  if (closing_ || finishing_ || detached()) return;
  const auto now = std::chrono::steady_clock::now();
  if (heartbeats()) {
    std::error_code ec;
    // Bytes that reached the socket while this side's threads were busy elsewhere are not silence.
    if (now - last_read_ >= silence_limit_ && (socket_.available(ec) == 0 || ec)) {
      const error why(errc::timeout, "nothing from " + (peer_.address.empty() ? remote_ : peer_.address) + " for " +
                                         milliseconds(now - last_read_) + " (its heartbeats stopped)");
      if (handlers_.silent)
        handlers_.silent(*this, why);
      else
        fail(why);
      return;
    }
    if (now - last_write_ >= options_.heartbeat_interval) {
      std::lock_guard lock(mutex_);
      // Written as a prefix: before any frame, and not one of the frames given to send().
      if (accepting_ && !writing_ && outbox_.empty() && prefix_.empty() && trailer_.empty()) {
        prefix_.assign(wire::heartbeat_frame());
        schedule_write_locked();
      }
    }
  }
  if (options_.idle_timeout > duration::zero() && now - std::max(last_read_, last_write_) >= options_.idle_timeout) {
    bool busy;
    {
      std::lock_guard lock(mutex_);
      busy = writing_ || !outbox_.empty();
    }
    if (!busy && handlers_.idle) handlers_.idle(*this);
  }
  arm_watch();
}

}  // namespace coactor::tcp
