#include "kernels/compute_dtype.h"

#include <atomic>

#include "kernels/cpu_features.h"

namespace pagedllm {
namespace {

std::atomic<ComputeDType>& serving_dtype() {
  static std::atomic<ComputeDType> dtype{has_avx512_bf16() ? ComputeDType::kBF16 : ComputeDType::kF32};
  return dtype;
}

std::atomic<ComputeDType> training_dtype{ComputeDType::kF32};

}  // namespace

ComputeDType matmul_compute() { return serving_dtype().load(std::memory_order_relaxed); }

void set_matmul_compute(ComputeDType dtype) { serving_dtype().store(dtype, std::memory_order_relaxed); }

ComputeDType training_matmul_compute() { return training_dtype.load(std::memory_order_relaxed); }

void set_training_matmul_compute(ComputeDType dtype) { training_dtype.store(dtype, std::memory_order_relaxed); }

bool runs_bf16(ComputeDType dtype) { return dtype == ComputeDType::kBF16 && has_avx512_bf16(); }

}  // namespace pagedllm
