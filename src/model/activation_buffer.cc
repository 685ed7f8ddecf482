#include "model/activation_buffer.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>

namespace pagedllm {

float* ActivationBuffer::reserve(size_t floats) {
  if (floats > memory_.size()) memory_ = ZeroedFloats(floats);
  return memory_.data();
}

void ActivationBuffer::release_after(size_t floats) {
  if (floats >= memory_.size()) return;
  // The mapping starts on a page; keep the page holding float `floats - 1`.
  const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  const size_t keep = (floats * sizeof(float) + page - 1) / page * page;
  const size_t total = memory_.size() * sizeof(float);
  if (keep >= total) return;
  madvise(reinterpret_cast<char*>(memory_.data()) + keep, total - keep, MADV_DONTNEED);
}

}  // namespace pagedllm
