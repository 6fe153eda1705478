// coactor detail: envelope_pool, the allocator of envelopes.
//
// Every message is one envelope, allocated by the sender's thread and freed by the receiver's, so the
// allocator is on the hot path of every send. Blocks come in a few size classes; each thread keeps a free
// list per class (allocation and free are a pointer pop and push), refilled from and spilled to a shared
// depot in batches, so memory freed on one thread returns to threads that allocate. Blocks are carved
// from 64 KiB slabs that are kept for the life of the program: the pool's footprint is its peak.
//
// Built with AddressSanitizer, the pool passes every request to operator new/delete, so that the
// sanitizer sees each envelope.
#pragma once

#include <cstddef>
#include <cstdint>
#include <new>

#if defined(__SANITIZE_ADDRESS__)
#define COACTOR_POOL_DISABLED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define COACTOR_POOL_DISABLED 1
#endif
#endif

namespace coactor::detail::envelope_pool {

inline constexpr std::size_t class_sizes[] = {64, 96, 128, 192, 256, 384, 512, 768, 1024};
inline constexpr std::uint8_t class_count = sizeof(class_sizes) / sizeof(class_sizes[0]);
/// The class of blocks that are not pooled (too large, or over-aligned).
inline constexpr std::uint8_t unpooled = class_count;

constexpr std::uint8_t class_of(std::size_t size, std::size_t align) noexcept {
#ifdef COACTOR_POOL_DISABLED
  (void)size;
  (void)align;
  return unpooled;
#else
  if (align > 16) return unpooled;
  for (std::uint8_t c = 0; c < class_count; ++c)
    if (size <= class_sizes[c]) return c;
  return unpooled;
#endif
}

struct free_block {
  free_block* next;
};

/// A thread's free lists. Constant-initialised and trivially destructible, so reaching it costs no
/// initialisation check; a separate thread-exit hook gives its blocks back to the depot and marks it dead.
struct thread_cache {
  free_block* head[class_count] = {};
  std::uint32_t count[class_count] = {};
  bool dead = false;  ///< the thread is exiting: its blocks went back to the depot
};

extern constinit thread_local thread_cache this_thread_cache;

/// Spill threshold per class: above this many cached blocks a thread returns a batch to the depot.
inline constexpr std::uint32_t cache_limit = 4096;

void* refill_and_allocate(std::uint8_t cls);
void spill(std::uint8_t cls) noexcept;
void give_back(void* p, std::uint8_t cls) noexcept;

inline void* allocate(std::uint8_t cls, std::size_t size, std::size_t align) {
  if (cls == unpooled) {
    if (align > __STDCPP_DEFAULT_NEW_ALIGNMENT__) return ::operator new(size, std::align_val_t{align});
    return ::operator new(size);
  }
  thread_cache& cache = this_thread_cache;
  if (free_block* b = cache.head[cls]) {
    cache.head[cls] = b->next;
    --cache.count[cls];
    return b;
  }
  return refill_and_allocate(cls);
}

inline void deallocate(void* p, std::uint8_t cls, std::size_t align) noexcept {
  if (cls == unpooled) {
    if (align > __STDCPP_DEFAULT_NEW_ALIGNMENT__)
      ::operator delete(p, std::align_val_t{align});
    else
      ::operator delete(p);
    return;
  }
  thread_cache& cache = this_thread_cache;
  if (cache.dead) return give_back(p, cls);
  auto* b = static_cast<free_block*>(p);
  b->next = cache.head[cls];
  cache.head[cls] = b;
  if (++cache.count[cls] > cache_limit) spill(cls);
}

}  // namespace coactor::detail::envelope_pool
