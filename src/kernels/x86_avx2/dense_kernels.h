// AVX2+FMA+F16C dense (F32/F16/BF16) matrix kernels, same contracts as kernels/generic/dense_kernels.h.
// Only call after has_avx2_fma_f16c() (kernels/cpu_features.h).
// W is (n_out, n_in) row-major in `format` (kF32, kF16 or kBF16 only). All functions run on the calling thread.
#pragma once

#include <cstdint>

#include "kernels/weight_matrix.h"

namespace pagedllm::avx2 {

// y[r * ldy + o] = x[r, :] · W[o, :] for r < n_rows and row_begin ≤ o < row_end; x: (n_rows, n_in).
// Each W row is read once for all rows of x (decode is bound by streaming W).
void dense_matmul_rows(WeightFormat format, const void* w, int64_t n_in, int64_t row_begin, int64_t row_end,
                       const float* x, int64_t n_rows, float* y, int64_t ldy);

// dx[r * n_in + c] = Σ_{row_begin ≤ o < row_end} dy[r * n_out + o] · W[o, c] for r < n_rows, c < n_in (assigned):
// the part of dy · W contributed by W's rows [row_begin, row_end), reading them once, front to back.
void dense_matmul_t_rows(WeightFormat format, const void* w, int64_t n_out, int64_t n_in, int64_t row_begin,
                         int64_t row_end, const float* dy, int64_t n_rows, float* dx);

// out[(o - row_begin) * (col_end - col_begin) + (c - col_begin)] = W[o, c] as fp32, exactly.
void dense_to_f32(WeightFormat format, const void* w, int64_t n_in, int64_t row_begin, int64_t row_end,
                  int64_t col_begin, int64_t col_end, float* out);

}  // namespace pagedllm::avx2
