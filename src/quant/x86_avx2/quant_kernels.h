// AVX2+FMA+F16C decode kernels of the quantized formats, same contracts as the generic ones
// (quant/quant_kernels.h). Only call after has_avx2_fma_f16c() (kernels/cpu_features.h). dot_int8_row needs
// n_in % 16 == 0.
#pragma once

#include <cstdint>

namespace pagedllm::avx2 {

void dot_4bit_row(const uint8_t* codes, const float* scales, int64_t block_size, int64_t first_offset,
                  const float* lut, const float* x_quads, int64_t n_in, int64_t n_rows, float* out,
                  int64_t out_stride);
void dequantize_4bit(const uint8_t* codes, int64_t n, const float* lut, float scale, float* out);
void dot_4bit_q8_row(const uint8_t* codes, const float* scales, int64_t first_group, int64_t groups_per_block,
                     const int8_t* lut_i8, const int8_t* xq, const float* xd, int64_t n_in, int64_t n_rows,
                     float* out, int64_t out_stride);
void dot_int8_q8_row(const int8_t* q, float scale, const int8_t* xq, const float* xd, int64_t n_in, int64_t n_rows,
                     float* out, int64_t out_stride);
void dot_q8_0_q8_row(const uint8_t* blocks, const int8_t* xq, const float* xd, int64_t n_in, int64_t n_rows,
                     float* out, int64_t out_stride);
void dot_int8_row(const int8_t* q, float scale, const float* x, int64_t x_stride, int64_t n_in, int64_t n_rows,
                  float* out, int64_t out_stride);
void dot_q8_0_row(const uint8_t* blocks, const float* x, int64_t x_stride, int64_t n_in, int64_t n_rows, float* out,
                  int64_t out_stride);

}  // namespace pagedllm::avx2
