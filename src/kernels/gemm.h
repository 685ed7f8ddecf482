// The process's one entry into fp32 GEMM: our AVX-512 kernel where the CPU has it, else OpenBLAS sgemm. OpenBLAS is pinned to one thread and the N dimension is split over
// the pagedllm thread pool, so BLAS threads and pool threads never compete for the same cores (DESIGN.md).
#pragma once

#include <cstdint>

#include "kernels/compute_dtype.h"
#include "kernels/weight_matrix.h"

namespace pagedllm {

// C[m, n] = A[m, k] · op(B) + beta · C, row-major, where op(B) = B (b: (k, n), ldb ≥ n) when !trans_b and
// op(B) = Bᵀ (b: (n, k), ldb ≥ k) when trans_b. beta 0 ignores C's previous contents (it may be uninitialized).
// Runs on the thread pool (called from inside a parallel_for task it runs serially, like any nested parallel_for).
void gemm_f32(bool trans_b, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, const float* b,
              int64_t ldb, float beta, float* c, int64_t ldc);

// The same product on the calling thread only (for use inside a parallel_for task).
void gemm_f32_serial(bool trans_b, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, const float* b,
                     int64_t ldb, float beta, float* c, int64_t ldc);

// C[m, n] = alpha · op(A) · op(B) + beta · C, where op(A) = A (a: (m, k), lda ≥ k) or Aᵀ (a: (k, m), lda ≥ m).
// On the pool, like gemm_f32.
void gemm_f32_general(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float* a,
                      int64_t lda, const float* b, int64_t ldb, float beta, float* c, int64_t ldc);
void gemm_f32_general_serial(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float* a,
                             int64_t lda, const float* b, int64_t ldb, float beta, float* c, int64_t ldc);

// y[m, n_out] = x[m, n_in] · Wᵀ for W (n_out, n_in) stored as bf16 (`bf16`) or IEEE f16, widened while packing
// (no fp32 copy of W), on the pool. Only with AVX-512 (has_avx512()): returns false, doing nothing, otherwise.
bool gemm_f32_half_weight(bool bf16, int64_t m, int64_t n_out, int64_t n_in, const float* x, const uint16_t* w,
                          float* y);

// c (m, n) = alpha · op(a) · op(b) + beta · c, row-major and packed (lda, ldb, ldc implied); op(a) is (m, k): a is
// (m, k), or (k, m) when trans_a; op(b) is (k, n): b is (k, n), or (n, k) when trans_b. beta = 0 assigns c, beta = 1
// accumulates. float runs gemm_f32_general (on the pool; serial inside a parallel_for task); double (gradient checks'
// reference) runs BLAS on the calling thread.
template <typename T>
void gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, T alpha, const T* a, const T* b, T beta,
          T* c);

// gemm<T> in the compute dtype `dtype`. For float, kBF16 runs the bf16 GEMM below where the CPU has it (runs_bf16):
// both operands rounded to bf16, fp32 accumulation, |C − C_exact| ≤ (2⁻⁷ + 2⁻¹⁶) · |alpha| · Σ|a·b| plus fp32
// rounding, as PyTorch's bf16 autocast multiplies fp32 parameters; otherwise, and always for double (the gradient
// checks' reference), gemm<T>.
template <typename T>
void gemm_in(ComputeDType dtype, bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, T alpha, const T* a,
             const T* b, T beta, T* c);

// C[m, n] = A[m, k] · op(B) + beta · C in bf16 with fp32 accumulation (kernels/x86_avx512_bf16/bf16_gemm.h: A and
// B rounded to bf16, |error| ≤ (2⁻⁷ + 2⁻¹⁶) · Σ|a·b|), B's elements F32, F16 or BF16 (`b_format`), op(B) as in
// gemm_f32. Products of 16 rows or more run on the AMX tiles where has_amx_bf16() (amx/amx_gemm.h, same contract
// and bound), the others on AVX512-BF16. Only with AVX512-BF16 (has_avx512_bf16()): returns false, doing nothing,
// otherwise, and the caller takes its fp32 path.
// On the pool like gemm_f32; the _serial form on the calling thread.
bool gemm_bf16(WeightFormat b_format, bool trans_b, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda,
               const void* b, int64_t ldb, float beta, float* c, int64_t ldc);
bool gemm_bf16_serial(WeightFormat b_format, bool trans_b, int64_t m, int64_t n, int64_t k, const float* a,
                      int64_t lda, const void* b, int64_t ldb, float beta, float* c, int64_t ldc);

// C[m, n] = alpha · op(A) · op(B) + beta · C with the same rounding and bound (times |alpha|), op(A) as in
// gemm_f32_general; alpha scales the fp32 sums. With a transposed A or alpha ≠ 1 it runs on AVX512-BF16 even where
// the AMX tiles work.
bool gemm_bf16_general(WeightFormat b_format, bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k,
                       float alpha, const float* a, int64_t lda, const void* b, int64_t ldb, float beta, float* c,
                       int64_t ldc);
bool gemm_bf16_general_serial(WeightFormat b_format, bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k,
                              float alpha, const float* a, int64_t lda, const void* b, int64_t ldb, float beta,
                              float* c, int64_t ldc);

// y[m, n_out] = x[m, n_in] · Wᵀ in bf16 with fp32 accumulation for W stored as bf16 panels (kernels/bf16_panels.h),
// split over the pool: the same bits as gemm_bf16(kBF16, trans_b = true, ...) on W's row-major form (never AMX: the
// tiles pack their own layout). Only with AVX512-BF16: returns false, doing nothing, without it.
bool gemm_bf16_panels(int64_t m, int64_t n_out, int64_t n_in, const float* x, const uint32_t* panels, float* y);

}  // namespace pagedllm
