// Internal to the elementwise kernel files (elementwise.cc, rmsnorm.cc, rope.cc, swiglu.cc): how they pick the
// instruction set and split work over the thread pool.
#pragma once

#include <algorithm>
#include <cstdint>

#include "kernels/cpu_features.h"

namespace pagedllm::elementwise_dispatch {

// Work below this many elements per task is not worth waking another thread for.
inline constexpr int64_t kMinTaskElements = 32 * 1024;

inline int64_t rows_per_task(int64_t row_elements) {
  return std::max<int64_t>(1, kMinTaskElements / std::max<int64_t>(row_elements, 1));
}

inline bool use_avx2() { return has_avx2_fma_f16c(); }

}  // namespace pagedllm::elementwise_dispatch
