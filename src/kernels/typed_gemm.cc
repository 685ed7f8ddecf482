#include "kernels/gemm.h"

#include <cblas.h>

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
  gemm_bf16_general(WeightFormat::kF32, trans_a, trans_b, m, n, k, alpha, a, trans_a ? m : k, b, trans_b ? k : n,
                    beta, c, n);
}

template <>
void gemm_in<double>(ComputeDType dtype, bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, double alpha,
                     const double* a, const double* b, double beta, double* c) {
  (void)dtype;
  gemm<double>(trans_a, trans_b, m, n, k, alpha, a, b, beta, c);
}

}  // namespace pagedllm
