#include <coactor/transports/tcp/frame_queue.hpp>
#include <coactor/wire/frame.hpp>

#include <utility>

namespace coactor::tcp {

std::size_t frame_queue::size_of(std::string_view bytes) noexcept {
  return std::size_t{wire::length_field(bytes)} + wire::length_bytes;
}

std::size_t frame_queue::count(std::string_view bytes, std::size_t* complete_bytes) noexcept {
  std::size_t frames = 0, offset = 0;
  while (bytes.size() - offset >= wire::length_bytes) {
    const std::size_t n = size_of(bytes.substr(offset));
    if (n > bytes.size() - offset) break;
    offset += n;
    ++frames;
  }
  if (complete_bytes) *complete_bytes = offset;
  return frames;
}

void frame_queue::append(frame_queue&& other) {
  if (other.empty()) return;
  if (empty()) {
    std::swap(bytes_, other.bytes_);
    std::swap(head_, other.head_);
    frames_ = other.frames_;
  } else {
    bytes_.append(other.view());
    frames_ += other.frames_;
  }
  other.clear();
}

void frame_queue::prepend(frame_queue&& other) {
  if (other.empty()) return;
  if (!empty()) other.bytes_.append(view());
  const std::size_t total = frames_ + other.frames_;
  std::swap(bytes_, other.bytes_);
  std::swap(head_, other.head_);
  frames_ = total;
  other.clear();
}

std::size_t frame_queue::take(std::string& out, std::size_t max_bytes) {
  if (empty()) return 0;
  if (bytes() <= max_bytes) {
    const std::size_t n = frames_;
    if (out.empty() && head_ == 0) {
      std::swap(out, bytes_);  // the common case: the whole queue is one write, and out's buffer is reused
    } else {
      out.append(view());
    }
    clear();
    return n;
  }
  std::string_view rest = view();
  std::size_t taken = 0, n = 0;
  do {
    taken += size_of(rest.substr(taken));
    ++n;
  } while (taken < rest.size() && taken + size_of(rest.substr(taken)) <= max_bytes);
  out.append(rest.substr(0, taken));
  head_ += taken;
  frames_ -= n;
  if (frames_ == 0) {
    clear();
  } else if (head_ > bytes_.size() / 2) {
    bytes_.erase(0, head_);
    head_ = 0;
  }
  return n;
}

void frame_queue::split_front(std::size_t n, frame_queue& out) {
  std::string_view rest = view();
  std::size_t taken = 0;
  for (std::size_t i = 0; i < n && i < frames_; ++i) {
    const std::size_t size = size_of(rest.substr(taken));
    out.append(rest.substr(taken, size));
    taken += size;
  }
  const std::size_t moved = n < frames_ ? n : frames_;
  head_ += taken;
  frames_ -= moved;
  if (frames_ == 0) clear();
}

std::size_t frame_queue::drop_front(std::size_t n) {
  std::string_view rest = view();
  std::size_t dropped = 0, bytes = 0;
  for (; dropped < n && dropped < frames_; ++dropped) bytes += size_of(rest.substr(bytes));
  head_ += bytes;
  frames_ -= dropped;
  if (frames_ == 0) {
    clear();
  } else if (head_ >= 64 * 1024 && head_ >= bytes_.size() / 2) {  // the dropped half goes: amortized O(1)
    bytes_.erase(0, head_);
    head_ = 0;
  }
  return dropped;
}

}  // namespace coactor::tcp
