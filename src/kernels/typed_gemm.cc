#include "kernels/gemm.h"

#include <cblas.h>

#include <vector>

namespace pagedllm {

template <>
void gemm<float>(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float* a,
                 const float* b, float beta, float* c) {
  gemm_f32_general(trans_a, trans_b, m, n, k, alpha, a, trans_a ? m : k, b, trans_b ? k : n, beta, c, n);
}

template <>
void gemm<double>(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, double alpha, const double* a,
                  const double* b, double beta, double* c) {
  if (m == 0 || n == 0) return;
  cblas_dgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans, m, n, k, alpha,
              a, trans_a ? m : k, b, trans_b ? k : n, beta, c, n);
}

template <>
void gemm_in<float>(ComputeDType dtype, bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha,
                    const float* a, const float* b, float beta, float* c) {
  if (!runs_bf16(dtype) || m <= 0 || n <= 0 || k <= 0) {
    gemm<float>(trans_a, trans_b, m, n, k, alpha, a, b, beta, c);
    return;
  }
  // The bf16 GEMM reads A row-major and has no alpha: a transposed A is copied, with alpha folded in when C is
  // accumulated into (alpha·a is rounded to bf16 instead of a: the same bound); with beta 0, C is scaled after.
  std::vector<float> a_rows;
  const bool fold_alpha = alpha != 1.0f && beta != 0.0f;
  if (trans_a || fold_alpha) {
    const float factor = fold_alpha ? alpha : 1.0f;
    a_rows.resize(static_cast<size_t>(m * k));
    for (int64_t i = 0; i < m; ++i) {
      for (int64_t p = 0; p < k; ++p) a_rows[i * k + p] = factor * (trans_a ? a[p * m + i] : a[i * k + p]);
    }
  }
  const float* a_used = a_rows.empty() ? a : a_rows.data();
  gemm_bf16(WeightFormat::kF32, trans_b, m, n, k, a_used, k, b, trans_b ? k : n, beta, c, n);
  if (alpha != 1.0f && !fold_alpha) {
    for (int64_t i = 0; i < m * n; ++i) c[i] *= alpha;
  }
}

template <>
void gemm_in<double>(ComputeDType dtype, bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, double alpha,
                     const double* a, const double* b, double beta, double* c) {
  (void)dtype;
  gemm<double>(trans_a, trans_b, m, n, k, alpha, a, b, beta, c);
}

}  // namespace pagedllm
