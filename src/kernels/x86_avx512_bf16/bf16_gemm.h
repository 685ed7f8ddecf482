// Single-threaded GEMM on AVX512-BF16 (compiled with -mavx512bf16; enter only when has_avx512_bf16()):
//   C[m, n] = alpha · op(A) · op(B) + beta · C, row-major, op(A) = Aᵀ (a: (k, m)) when trans_a, else A (a: (m, k));
//   op(B) = Bᵀ (b: (n, k)) when trans_b, else B (b: (k, n)).
// A (fp32 activations) and B (F32, F16 or BF16 elements) are rounded to bf16, nearest-even, while packing (exact for
// BF16 B); vdpbf16ps multiplies pairs of them and accumulates in fp32. bf16 keeps 8 significant bits, so each
// rounded factor is off by at most 2⁻⁸ of itself and each term of the sum by 2⁻⁷ + 2⁻¹⁶ of its magnitude (2⁻⁸ when
// B is BF16): |C − C_exact| ≤ (2⁻⁷ + 2⁻¹⁶) · Σ_p |a_ip·b_pj| plus fp32 summation error (kernels/bf16_gemm_test.cc).
//
// Why: on Zen 4 / Sapphire Rapids one vdpbf16ps does 32 multiply-adds where vfmadd231ps does 16, and bf16 packs
// halve the bytes the cache blocks hold.
#pragma once

#include <cstdint>

#include "kernels/weight_matrix.h"

namespace pagedllm::avx512_bf16 {

// b_format is kF32, kF16 or kBF16 (anything else is a bug in the caller). beta 0 ignores C's previous contents.
// alpha scales the fp32 sums (it is not rounded into either operand).
void gemm_bf16(WeightFormat b_format, bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha,
               const float* a, int64_t lda, const void* b, int64_t ldb, float beta, float* c, int64_t ldc);

// C[m, n] = A[m, k] · Wᵀ + beta · C for W stored as bf16 panels (kernels/bf16_panels.h; k = W's n_in): the same
// products, in the same order, as gemm_bf16 on W's row-major BF16 with trans_b, so the same bits, without packing
// W. `panels` points at the panel of C's first column (C's columns start on a panel boundary).
void gemm_bf16_panels(int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, const uint32_t* panels,
                      float beta, float* c, int64_t ldc);

}  // namespace pagedllm::avx512_bf16
