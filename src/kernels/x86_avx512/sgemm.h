// Single-threaded fp32 GEMM with AVX-512 (compiled with -mavx512f; enter only when has_avx512()), the same
// contract as gemm_f32_general_serial (kernels/gemm.h): C[m, n] = alpha · op(A) · op(B) + beta · C, row-major.
//
// Why our own: OpenBLAS is held to its AVX2 kernels on the CPUs where this matters (older builds compute wrong
// results on them, so the environment pins OPENBLAS_CORETYPE), which caps sgemm at half of an AVX-512 core's peak.
#pragma once

#include <cstdint>

namespace pagedllm::avx512 {

void sgemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float* a, int64_t lda,
           const float* b, int64_t ldb, float beta, float* c, int64_t ldc);

// The same with B stored as 16-bit floats (bf16 when `bf16`, else IEEE f16), widened exactly while packing: a
// BF16 / F16 weight matrix multiplies many rows without an fp32 copy.
void sgemm_half_b(bool bf16, bool trans_b, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda,
                  const uint16_t* b, int64_t ldb, float beta, float* c, int64_t ldc);

}  // namespace pagedllm::avx512
