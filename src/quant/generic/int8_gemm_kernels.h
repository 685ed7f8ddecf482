// The portable kernels of the int8 GEMM (contracts and packed layouts: quant/int8_gemm.h): the reference the VNNI ones
// are tested against, bit for bit (the same integer sums, the same fused multiply-adds in the same order).
#pragma once

#include <cstdint>

#include "quant/int8_gemm.h"

namespace pagedllm::generic {

void pack_int8_panel(const Int8GemmWeights& w, const float* absmax, int64_t first_block, int64_t j0, int64_t g0,
                     int64_t num_groups, uint8_t* panel, float* steps);
void int8_tile(int num_rows, const uint8_t* panel, const float* steps, int64_t num_groups, const int8_t* levels,
               int64_t ld_levels, const float* xd, const int32_t* starts, int64_t ld_groups, int num_cols, float* c,
               int64_t ldc, bool accumulate);

// One weight row's int8 values and step for group g (shared by both ISAs' packing): values[i] = w[32g + i].
float int8_group_of(const Int8GemmWeights& w, const float* absmax, int64_t first_block, int64_t j, int64_t g,
                    int8_t* values);

}  // namespace pagedllm::generic
