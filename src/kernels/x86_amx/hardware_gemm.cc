#include "kernels/x86_amx/hardware_gemm.h"

#include "kernels/amx/tile_gemm.h"
#include "kernels/x86_amx/hardware_tiles.h"

namespace pagedllm::amx::hardware {

void gemm_bf16(const Bf16Packers& packers, WeightFormat b_format, bool trans_b, int64_t m, int64_t n, int64_t k,
               const float* a, int64_t lda, const void* b, int64_t ldb, float beta, float* c, int64_t ldc) {
  gemm_bf16_tiles<HardwareTiles>(packers, b_format, trans_b, m, n, k, a, lda, b, ldb, beta, c, ldc);
}

void gemm_u8s8(int64_t m, int64_t n, int64_t k_packed, int64_t k0, int64_t k, const uint8_t* packed_a,
               const int8_t* packed_b, bool accumulate, int32_t* c, int64_t ldc) {
  gemm_u8s8_tiles<HardwareTiles>(m, n, k_packed, k0, k, packed_a, packed_b, accumulate, c, ldc);
}

}  // namespace pagedllm::amx::hardware
