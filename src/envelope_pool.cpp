// The shared side of envelope_pool: the depot of free batches and the slabs.
#include <coactor/detail/envelope_pool.hpp>

#include <mutex>
#include <vector>

namespace coactor::detail::envelope_pool {

constinit thread_local thread_cache this_thread_cache;

namespace {

constexpr std::size_t slab_bytes = 64 * 1024;
constexpr std::uint32_t batch = cache_limit / 2;

struct batch_list {
  free_block* head = nullptr;
  std::uint32_t count = 0;
};

struct depot {
  std::mutex mutex;
  std::vector<batch_list> batches[class_count];
  std::vector<void*> slabs;  // kept for the life of the program (reachable, so not reported as leaks)
};

depot& the_depot() {
  static depot* d = new depot;  // never destroyed: thread caches may return blocks during exit
  return *d;
}

// Gives a thread's blocks back to the depot when the thread exits.
struct exit_hook {
  bool armed = false;
  ~exit_hook() {
    thread_cache& cache = this_thread_cache;
    depot& d = the_depot();
    std::lock_guard lock(d.mutex);
    for (std::uint8_t c = 0; c < class_count; ++c) {
      if (cache.head[c]) {
        try {
          d.batches[c].push_back({cache.head[c], cache.count[c]});
        } catch (...) {
          // The blocks stay out of reach of the pool (a leak at thread exit), never freed twice.
        }
      }
      cache.head[c] = nullptr;
      cache.count[c] = 0;
    }
    cache.dead = true;
  }
};
thread_local exit_hook this_thread_exit_hook;

}  // namespace

void give_back(void* p, std::uint8_t cls) noexcept {
  auto* b = static_cast<free_block*>(p);
  b->next = nullptr;
  depot& d = the_depot();
  std::lock_guard lock(d.mutex);
  try {
    d.batches[cls].push_back({b, 1});
  } catch (...) {
  }
}

void* refill_and_allocate(std::uint8_t cls) {
  thread_cache& cache = this_thread_cache;
  if (cache.dead) return ::operator new(class_sizes[cls]);  // thread exit: blocks join the pool when freed
  this_thread_exit_hook.armed = true;  // constructs the hook, so that it runs at thread exit
  depot& d = the_depot();
  {
    std::lock_guard lock(d.mutex);
    if (!d.batches[cls].empty()) {
      batch_list b = d.batches[cls].back();
      d.batches[cls].pop_back();
      free_block* first = b.head;
      cache.head[cls] = first->next;
      cache.count[cls] = b.count - 1;
      return first;
    }
  }
  // Carve a new slab; keep all its blocks but the first in this thread's list.
  const std::size_t size = class_sizes[cls];
  auto* slab = static_cast<char*>(::operator new(slab_bytes));
  {
    std::lock_guard lock(d.mutex);
    d.slabs.push_back(slab);
  }
  const std::size_t n = slab_bytes / size;
  free_block* list = cache.head[cls];
  for (std::size_t i = n; i-- > 1;) {
    auto* b = reinterpret_cast<free_block*>(slab + i * size);
    b->next = list;
    list = b;
  }
  cache.head[cls] = list;
  cache.count[cls] += static_cast<std::uint32_t>(n - 1);
  return slab;
}

void spill(std::uint8_t cls) noexcept {
  thread_cache& cache = this_thread_cache;
  // Detach `batch` blocks from the front of the list and hand them to the depot.
  free_block* first = cache.head[cls];
  free_block* last = first;
  for (std::uint32_t i = 1; i < batch; ++i) last = last->next;
  cache.head[cls] = last->next;
  last->next = nullptr;
  cache.count[cls] -= batch;
  depot& d = the_depot();
  std::lock_guard lock(d.mutex);
  try {
    d.batches[cls].push_back({first, batch});
  } catch (...) {
    // Could not grow the depot's list: keep the blocks here instead.
    last->next = cache.head[cls];
    cache.head[cls] = first;
    cache.count[cls] += batch;
  }
}

}  // namespace coactor::detail::envelope_pool
