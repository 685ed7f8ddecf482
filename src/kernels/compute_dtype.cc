#include "kernels/compute_dtype.h"

#include <atomic>

#include "kernels/cpu_features.h"

namespace pagedllm {
namespace {

std::atomic<ComputeDType>& setting() {
  static std::atomic<ComputeDType> dtype{has_avx512_bf16() ? ComputeDType::kBF16 : ComputeDType::kF32};
  return dtype;
}

}  // namespace

ComputeDType matmul_compute() { return setting().load(std::memory_order_relaxed); }

void set_matmul_compute(ComputeDType dtype) { setting().store(dtype, std::memory_order_relaxed); }

bool use_bf16_products() { return matmul_compute() == ComputeDType::kBF16 && has_avx512_bf16(); }

}  // namespace pagedllm
