// The AVX-512 VNNI kernels of the int8 GEMM (contracts and packed layouts: quant/int8_gemm.h). Only call after
// has_avx512_vnni(). Bit for bit generic/int8_gemm_kernels.h's results.
#pragma once

#include <cstdint>

#include "quant/int8_gemm.h"

namespace pagedllm::avx512 {

void pack_int8_panel(const Int8GemmWeights& w, const float* absmax, int64_t first_block, int64_t j0, int64_t g0,
                     int64_t num_groups, uint8_t* panel, float* steps);
void int8_tile(int num_rows, const uint8_t* panel, const float* steps, int64_t num_groups, const int8_t* levels,
               int64_t ld_levels, const float* xd, const int32_t* starts, int64_t ld_groups, int num_cols, float* c,
               int64_t ldc, bool accumulate);

}  // namespace pagedllm::avx512
