#include "util/malloc_policy.h"

#include <limits>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace pagedllm {

void use_reusing_malloc_policy() {
#if defined(__GLIBC__)
  // 32 MiB is the largest mmap threshold glibc accepts on 64-bit; a fixed threshold also stops its dynamic
  // adjustment. The trim threshold keeps freed memory at the top of the heap instead of handing it back.
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, std::numeric_limits<int>::max());
#endif
}

}  // namespace pagedllm
