// coactor tcp: connection, one TCP connection carrying coactor frames.
//
// What both TCP transports do with a connection, in one place:
//   * the handshake: start() writes the preamble and this node's hello at once and reads the peer's
//     preamble (wire::check_preamble) and hello (wire::parse_hello) within the handshake timeout. A peer
//     that is not coactor, speaks another version or sends a bad hello is refused: a bye frame naming the
//     reason, then the connection closes. A bye instead of a hello is the peer refusing us.
//   * the frame reading loop: bytes are read into one buffer; every complete frame (wire::frame_size)
//     goes to handlers::frames, a run of them at a time, in order. A frame over the limit is refused.
//   * the coalescing writer: send() appends the frame to the outbox under a mutex and, unless a write is
//     already in flight, schedules one; when a write completes, whatever accumulated meanwhile goes out
//     as the next batch (one async_write, at most max_batch_bytes). Under load, many frames per syscall.
//   * closing gracefully (finish): no more frames are taken, the outbox is flushed, the sending side is
//     shut down; the connection is closed once the peer's side is shut down too (EOF read).
//   * closing at once (close): the socket is closed (with an RST if reset_on_close); frames not written
//     are handed back in connection_end.
//   * heartbeats: when both hellos announce them (options.heartbeat_interval here, the peer's "heartbeat"
//     extension), a heartbeat frame is written whenever nothing was written for the interval, and a peer
//     from which nothing at all was read for the silence limit (see silence_limit()) is reported through
//     handlers::silent. One timer per connection watches the heartbeat, the silence and the idle timeout,
//     armed for the earliest of their deadlines and re-armed only when it fires; reading and writing
//     just note the time (once per read and per completed write, not per frame).
//   * acknowledgements (sequenced streams, when both hellos say "sequenced"): acknowledge() leaves one
//     received frame to be written before the next batch of frames, replacing any not written yet (they
//     are cumulative); it goes out with the next write, or alone within ack_delay.
//
// Threads: send(), finish(), close(), abort() may be called from any thread. Everything else, and every
// handler, runs on the connection's strand. Handlers are not called after abort(), nor after closed.
// The object is held by shared_ptr: pending operations keep it alive.
#pragma once

#include <coactor/transports/tcp/frame_queue.hpp>
#include <coactor/transports/tcp/net.hpp>
#include <coactor/wire/frame.hpp>
#include <coactor/wire/handshake.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

namespace coactor::tcp {

struct connection_options {
  /// The peer's preamble and hello must arrive within this.
  duration handshake_timeout = std::chrono::seconds(5);
  /// A graceful close (finish) taking longer than this is cut short.
  duration close_timeout = std::chrono::seconds(5);
  /// No frame read or written for this long: handlers::idle. Zero: never. (Heartbeats are frames: a
  /// connection carrying them is never idle.)
  duration idle_timeout = duration::zero();
  /// This side's heartbeat interval, announced in its hello; zero: no heartbeats (not announced).
  duration heartbeat_interval = duration::zero();
  /// With heartbeats on both sides: nothing read from the peer for this long (or for 1.5 times the
  /// interval the peer announced, if longer) is handlers::silent.
  duration peer_timeout = std::chrono::seconds(3);
  /// At most this many bytes of frames per write (a larger frame goes alone).
  std::size_t max_batch_bytes = std::size_t{1} << 20;
  /// Frames larger than the limit are refused.
  wire::frame_limits limits{};
  /// Close with SO_LINGER {on, 0}: the close sends an RST, and this side keeps no TIME_WAIT.
  bool reset_on_close = false;
  /// The protocol versions this side says it speaks in its preamble (tests play other versions).
  wire::version_range versions = wire::supported_versions;
  /// Announce sequenced streams in the hello (wire/handshake.hpp, "sequenced").
  bool sequenced = true;
  /// An acknowledgement not urgent (acknowledge()) waits at most this long for a write to ride on.
  duration ack_delay = std::chrono::milliseconds(5);
};

/// How a connection ended, and what became of the frames given to it.
struct connection_end {
  /// Why it ended; an empty code when both sides closed gracefully (finish).
  error why{std::error_code{}};
  /// Both sides shut down their sending side after flushing: everything written was read by the peer.
  bool graceful = false;
  /// The handshake had completed (handlers::hello was called).
  bool opened = false;
  /// It ended on a plain EOF from the peer (a FIN, not an RST nor a failed write), with nothing of ours
  /// in flight: the peer's side had read every byte that reached it.
  bool clean_eof = false;
  /// Frames written completely on this connection.
  std::uint64_t written = 0;
  /// Frames given to send() that were not completely written, in order (the peer cannot have seen them
  /// whole, so sending them again cannot duplicate them).
  frame_queue unwritten;
};

class connection : public std::enable_shared_from_this<connection> {
 public:
  struct handlers {
    /// The handshake completed: the peer's hello. Frames follow.
    std::function<void(connection&, const wire::hello&)> hello;
    /// Complete frames, back to back (each as frame_size() delimits it), in arrival order. The bytes
    /// are valid during the call only.
    std::function<void(connection&, std::string_view frames)> frames;
    /// `n` more frames given to send() were written completely (optional).
    std::function<void(connection&, std::size_t n)> written;
    /// An acknowledgement waits to be written (true), or no longer does: written, or dropped as the
    /// connection closed (false). Optional; called in pairs, on the strand.
    std::function<void(connection&, bool waiting)> ack_pending;
    /// Nothing read or written for idle_timeout (optional; called again after another idle period).
    std::function<void(connection&)> idle;
    /// Heartbeats are on and nothing was read from the peer for silence_limit(); `why` says so
    /// (errc::timeout). Optional: without it the connection closes with `why`.
    std::function<void(connection&, const error& why)> silent;
    /// The connection is closed. The last call.
    std::function<void(connection&, connection_end)> closed;
  };

  connection(socket s, strand ex, connection_options options, handlers h);
  ~connection();
  connection(const connection&) = delete;
  connection& operator=(const connection&) = delete;

  static std::shared_ptr<connection> make(socket s, strand ex, connection_options options, handlers h) {
    return std::make_shared<connection>(std::move(s), std::move(ex), std::move(options), std::move(h));
  }

  const strand& executor() const noexcept { return strand_; }
  /// The peer's endpoint ("127.0.0.1:40000"), for messages.
  const std::string& remote() const noexcept { return remote_; }
  /// The peer's identity from its hello. Valid on the strand once the handshake completed.
  const node_identity& peer() const noexcept { return peer_; }
  /// How the peer sends, from its hello (wire::connection_mode). Valid as peer().
  wire::connection_mode peer_mode() const noexcept { return peer_mode_; }
  /// The protocol version agreed with the peer (wire::check_preamble); 0 until its preamble was read.
  std::uint16_t version() const noexcept { return version_; }
  /// Both hellos announced heartbeats: they flow, and the peer is watched for silence. Valid as peer().
  bool heartbeats() const noexcept { return silence_limit_ > duration::zero(); }
  /// How long the peer may say nothing before handlers::silent (zero without heartbeats). Valid as peer().
  duration silence_limit() const noexcept { return silence_limit_; }
  /// Both hellos said "sequenced": data frames on this connection may be numbered (resume frames) and
  /// acknowledged (received frames). Valid as peer(), and once the `hello` handler was called, from any
  /// thread.
  bool sequenced() const noexcept { return sequenced_.load(std::memory_order_acquire); }

  /// Writes this node's greeting (saying `mode`) and starts reading (the handshake, then frames). Frames
  /// given to send() before start() follow the greeting in the same write.
  void start(const node_identity& self, wire::connection_mode mode);

  /// Queues one complete frame. False if the connection takes no more frames (finishing or closed).
  bool send(std::string_view frame);
  /// On the strand: `received` (a complete received frame) is written before the next frames, replacing
  /// one not written yet; at once if `urgent`, else with the next write or within ack_delay. Not one of
  /// the frames given to send(): never counted as written, never handed back. Ignored once closing.
  void acknowledge(std::string_view received, bool urgent);
  /// Queues frames; on false they are left in `frames`.
  bool send(frame_queue& frames);

  /// Closes gracefully (see above). `after_peer_eof`: shut down the sending side only once the peer has
  /// shut down its own (the side that asked for the close, by a bye, waits for the other to flush).
  void finish(bool after_peer_eof);
  /// Writes a bye frame carrying `why` after the queued frames, then finish(true).
  void send_bye_and_finish(const error& why);
  /// A protocol violation by the peer: a bye carrying `why`, reading stops, the connection closes;
  /// handlers::closed gets `why`. On the strand.
  void refuse(const error& why);
  /// Closes now; handlers::closed gets `why` and the unwritten frames.
  void close(const error& why);
  /// As close(), with a reset (RST) whatever reset_on_close says: bytes not yet read on either side may
  /// be lost, as when a network fails (the transports' test hook, break_connections).
  void reset(const error& why);
  /// For the transport's shutdown: no handler is called any more; closes the socket (on the strand, or
  /// at once when the io_context is stopped); returns the frames not known to be written (queued ones,
  /// and those of a write still in flight). With a farewell (set_farewell), a bye carrying it is written
  /// first when the stream is between frames (no write in flight), without waiting for room.
  frame_queue abort();
  /// The bye abort() writes, if it can: the transport shutting down says so to its peers.
  void set_farewell(const error& why);

 private:
  void begin();
  void schedule_write_locked();
  void write_next();
  /// Takes the next batch and writes it; true if it was written at once (the caller takes another).
  bool write_batch();
  /// Accounts for a batch of which `n` bytes were written; true if writing goes on.
  bool written(const std::error_code& ec, std::size_t n);
  void read();
  void on_read(const std::error_code& ec, std::size_t n);
  void process();
  void handshake_failed(const error& why, bool send_bye);
  void begin_finish(bool after_peer_eof);
  void progress_finish();
  void fail(const error& why);
  void complete_close();
  void arm_watch();
  void on_watch();
  void write_farewell();
  void on_ack_due();
  bool detached() const;

  // Fixed at construction.
  strand strand_;
  socket socket_;
  connection_options options_;
  std::string remote_;

  // Strand only.
  handlers handlers_;
  asio::steady_timer handshake_timer_;
  asio::steady_timer close_timer_;
  asio::steady_timer watch_timer_;  // heartbeats, silence, idleness (arm_watch)
  asio::steady_timer ack_timer_;    // an acknowledgement waiting for a write (acknowledge)
  bool ack_timer_armed_ = false;
  // The read buffer: bytes [start_, end_) not yet consumed. Grown without zero-filling it (resizing a
  // std::string would write every byte: 64 KiB per connection, most of a per-message send's cost).
  class read_buffer {
   public:
    char* data() noexcept { return bytes_.get(); }
    std::size_t size() const noexcept { return size_; }
    /// Reallocates to `n` bytes, keeping the first `keep`.
    void reallocate(std::size_t n, std::size_t keep) {
      std::unique_ptr<char[]> fresh(new char[n]);
      if (keep) std::memcpy(fresh.get(), bytes_.get(), keep);
      bytes_ = std::move(fresh);
      size_ = n;
    }

   private:
    std::unique_ptr<char[]> bytes_;
    std::size_t size_ = 0;
  };
  read_buffer buf_;
  std::size_t start_ = 0;
  std::size_t end_ = 0;
  std::size_t wanted_ = 0;   // bytes the next incomplete frame needs from start_ (0: unknown)
  enum class phase { preamble, hello, frames, discard } phase_ = phase::preamble;
  node_identity peer_;
  wire::connection_mode peer_mode_ = wire::connection_mode::pooled;
  std::uint16_t version_ = 0;
  bool opened_ = false;
  bool finishing_ = false;
  bool after_eof_ = false;
  bool eof_read_ = false;
  bool reset_read_ = false;  // the read side ended in an error, not an EOF
  bool send_shut_ = false;
  bool closing_ = false;
  bool ended_ = false;
  error end_why_{std::error_code{}};
  duration silence_limit_ = duration::zero();      // set at the hello: heartbeats on both sides
  std::atomic<bool> sequenced_{false};             // set at the hello: both sides said "sequenced"
  std::chrono::steady_clock::time_point last_read_;   // bytes arrived
  std::chrono::steady_clock::time_point last_write_;  // a write completed

  // Guarded by mutex_ (touched by send() from any thread).
  mutable std::mutex mutex_;
  frame_queue outbox_;
  std::string prefix_;           // the greeting: written before any frame
  std::string ack_;              // an acknowledgement: written after the prefix, before the frames
  std::string trailer_;          // a bye: written after every frame
  std::string inflight_;         // the batch being written: [prefix][frames][trailer]
  std::size_t inflight_prefix_ = 0;
  std::size_t inflight_frames_ = 0;
  std::size_t inflight_frames_end_ = 0;
  bool writing_ = false;         // a write is scheduled or in flight
  bool started_ = false;
  bool accepting_ = true;
  bool detached_ = false;
  std::uint64_t written_ = 0;
  std::string farewell_;         // a bye for abort() to write (set_farewell)
};

}  // namespace coactor::tcp
