// AVX-512 dense (F32/F16/BF16) decode kernel, the same contract as generic::dense_matmul_rows
// (kernels/generic/dense_kernels.h). Only call after has_avx512() (kernels/cpu_features.h).
//
// Why a second x86 path: with several rows of x the AVX2 kernel is bound by its 8-wide FMAs (4 rows of x over
// TinyLlama's BF16 matrices, 2 threads: 24 GB/s of weights), while 16-wide FMAs and 32 registers keep it streaming
// (47 GB/s). A single row streams as fast or faster through the AVX2 kernel (51-53 vs 48-51 GB/s), which
// dense_weight.cc uses for that case.
#pragma once

#include <cstdint>

#include "kernels/weight_matrix.h"

namespace pagedllm::avx512 {

// y[r * ldy + o] = x[r, :] · W[o, :] for r < n_rows and row_begin ≤ o < row_end; x: (n_rows, n_in).
// Each W row is read once for all rows of x. Every output is summed in the same order whatever n_rows is, so a
// request's logits do not depend on what else is in the batch.
void dense_matmul_rows(WeightFormat format, const void* w, int64_t n_in, int64_t row_begin, int64_t row_end,
                       const float* x, int64_t n_rows, float* y, int64_t ldy);

}  // namespace pagedllm::avx512
