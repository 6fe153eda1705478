// coactor tcp: frame_queue, complete frames back to back, waiting to be written.
//
// Frames are kept as the bytes they are on the wire (each starts with its length, see wire/frame.hpp),
// so a queue is one buffer: appending copies the frame, taking a batch for one write is a swap of
// buffers when the whole queue fits. Not thread-safe: its owner guards it.
#pragma once

#include <coactor/wire/frame.hpp>

#include <cstddef>
#include <string>
#include <string_view>

namespace coactor::tcp {

class frame_queue {
 public:
  bool empty() const noexcept { return frames_ == 0; }
  std::size_t frames() const noexcept { return frames_; }
  std::size_t bytes() const noexcept { return bytes_.size() - head_; }
  /// The queued frames, back to back.
  std::string_view view() const noexcept { return std::string_view(bytes_).substr(head_); }

  /// Appends one complete frame (its length field included).
  void append(std::string_view frame) {
    bytes_.append(frame);
    ++frames_;
  }
  /// Appends all of `other`, leaving it empty.
  void append(frame_queue&& other);
  /// Puts all of `other` in front of this queue's frames, leaving it empty.
  void prepend(frame_queue&& other);

  /// Moves frames from the front to the end of `out`: at most `max_bytes` of them, but at least one
  /// frame (a frame larger than `max_bytes` goes alone). Returns the number of frames moved.
  std::size_t take(std::string& out, std::size_t max_bytes);

  /// Removes the first `n` frames into `out` (appended to it).
  void split_front(std::size_t n, frame_queue& out);
  /// Removes the first `n` frames (all, if there are fewer); returns how many it removed.
  std::size_t drop_front(std::size_t n);

  void clear() noexcept {
    bytes_.clear();
    head_ = 0;
    frames_ = 0;
  }

  /// Calls `fn(std::string_view frame)` for each frame, in order.
  template <class F>
  void for_each(F&& fn) const {
    std::string_view rest = view();
    while (!rest.empty()) {
      const std::size_t n = size_of(rest);
      fn(rest.substr(0, n));
      rest.remove_prefix(n);
    }
  }

  /// The size of the first frame of `bytes` (which starts with a complete frame), length field included.
  static std::size_t size_of(std::string_view bytes) noexcept;
  /// The kind of the first frame of `bytes` (which starts with a complete frame).
  static wire::frame_kind kind_of(std::string_view bytes) noexcept {
    return static_cast<wire::frame_kind>(static_cast<unsigned char>(bytes[wire::length_bytes]));
  }
  /// The number of complete frames in `bytes` (complete frames back to back, possibly followed by part
  /// of one) and the bytes they take.
  static std::size_t count(std::string_view bytes, std::size_t* complete_bytes = nullptr) noexcept;

 private:
  std::string bytes_;
  std::size_t head_ = 0;  // bytes_[0, head_) were taken
  std::size_t frames_ = 0;
};

}  // namespace coactor::tcp
