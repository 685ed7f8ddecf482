// The AMX GEMMs on the tile instructions (compiled with -mamx-tile -mamx-bf16 -mamx-int8). Enter only through
// amx/amx_gemm.h, which checks has_amx_bf16() / has_amx_int8() first; same contracts.
#pragma once

#include <cstdint>

#include "kernels/amx/bf16_packing.h"
#include "kernels/weight_matrix.h"

namespace pagedllm::amx::hardware {

// packers: amx/bf16_packing.h's best where the hardware runs; the scalar ones in the probe, which runs on any CPU.
void gemm_bf16(const Bf16Packers& packers, WeightFormat b_format, bool trans_b, int64_t m, int64_t n, int64_t k,
               const float* a, int64_t lda, const void* b, int64_t ldb, float beta, float* c, int64_t ldc);
void gemm_u8s8(int64_t m, int64_t n, int64_t k_packed, int64_t k0, int64_t k, const uint8_t* packed_a,
               const int8_t* packed_b, bool accumulate, int32_t* c, int64_t ldc);

// In x86_amx/hardware_group_gemm.cc, compiled with AVX-512 as well (has_amx_int8() implies has_avx512()), so never
// entered by the probe, which runs on any CPU.
void gemm_s8u8_groups(int num_rows, const uint8_t* panel, const float* steps, int64_t num_groups, const int8_t* levels,
                      int64_t ld_levels, const float* xd, const int32_t* starts, int64_t ld_groups, int num_cols,
                      float* c, int64_t ldc, bool accumulate);

}  // namespace pagedllm::amx::hardware
