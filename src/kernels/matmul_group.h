// Several products of one input, y_i = x · W_iᵀ (q/k/v, gate/up: vLLM's QKVParallelLinear and
// MergedColumnParallelLinear), run as one thread-pool job when every matrix takes its streaming decode path. Decode
// calls the pool once per matrix otherwise, and each call ends with one thread idle while the other finishes its last
// chunk; one job over the rows of all the matrices pays that once.
#pragma once

#include <cstdint>
#include <span>

#include "kernels/weight_matrix.h"

namespace pagedllm {

struct GroupedProduct {
  const WeightMatrix* weight;
  float* y;  // (n_rows, weight->n_out())
};

// y_i = x · W_iᵀ for every item; the same results as calling matmul on each.
void matmul_group(std::span<const GroupedProduct> products, const float* x, int64_t n_rows);

}  // namespace pagedllm
