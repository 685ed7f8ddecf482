#include "server/server_memory.h"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace pagedllm {

void limit_malloc_arenas_for_serving() {
#if defined(__GLIBC__)
  mallopt(M_ARENA_MAX, kMaxServerMallocArenas);
  mallopt(M_TRIM_THRESHOLD, kServerTrimThreshold);
#endif
}

void return_freed_memory() {
#if defined(__GLIBC__)
  malloc_trim(0);
#endif
}

}  // namespace pagedllm
