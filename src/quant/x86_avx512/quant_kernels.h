// AVX-512 VNNI decode kernels of the quantized formats on 8-bit activations (contracts and layouts:
// quant/quant_kernels.h). Only call after has_avx512_vnni() (kernels/cpu_features.h).
#pragma once

#include <cstdint>

namespace pagedllm::avx512 {

void dot_4bit_q8_row(const uint8_t* codes, const float* scales, int64_t first_group, int64_t groups_per_block,
                     const int8_t* lut_i8, const int8_t* xq, const float* xd, const int32_t* lane_sums, int64_t n_in,
                     int64_t n_rows, float* out, int64_t out_stride);
void dot_4bit_q8_quads(const uint8_t* codes, const float* scales, int64_t first_group, int block_shift,
                       const int8_t* lut_i8, const int8_t* levels, const int32_t* starts, const float* steps,
                       int64_t n_in, int64_t n_rows, int64_t n_weight_rows, float* out, int64_t out_stride);
void dot_int8_q8_rows(const int8_t* q, const float* scales, const int8_t* xq, const float* xd,
                      const int32_t* lane_sums, int64_t n_in, int64_t n_rows, int64_t n_weight_rows, float* out,
                      int64_t out_stride);
void dot_q8_0_q8_rows(const uint8_t* blocks, const int8_t* xq, const float* xd, const int32_t* lane_sums,
                      int64_t n_in, int64_t n_rows, int64_t n_weight_rows, float* out, int64_t out_stride);

}  // namespace pagedllm::avx512
