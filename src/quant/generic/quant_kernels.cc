// The portable decode kernels of the quantized formats: the reference every vectorized twin is tested against.
#include "quant/generic/quant_kernels.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "quant/quant_kernels.h"
#include "util/half.h"

namespace pagedllm::generic {
namespace {

// The f16 scale d at the start of a 34-byte Q8_0 block.
float q8_0_block_scale(const uint8_t* block) {
  uint16_t d_bits;
  std::memcpy(&d_bits, block, 2);
  return f16_to_f32(d_bits);
}

}  // namespace


void dequantize_4bit(const uint8_t* codes, int64_t n, const float* lut, float scale, float* out) {
  for (int64_t k = 0; k < n / 2; ++k) {
    out[2 * k] = lut[codes[k] >> 4] * scale;
    out[2 * k + 1] = lut[codes[k] & 0x0F] * scale;
  }
}

void dot_4bit_row(const uint8_t* codes, const float* scales, int64_t block_size, int64_t first_offset,
                          const float* lut, const float* x_quads, int64_t n_in, int64_t n_rows, float* out,
                          int64_t out_stride) {
  const int64_t num_segments = (first_offset + n_in + block_size - 1) / block_size;
  for (int64_t r = 0; r < n_rows; ++r) {
    const float* x = x_quads + r * n_in;
    float sum = 0.0f;
    for (int64_t s = 0; s < num_segments; ++s) {
      const int64_t begin = std::max<int64_t>(0, s * block_size - first_offset) / 2;
      const int64_t end = std::min<int64_t>(n_in, (s + 1) * block_size - first_offset) / 2;
      for (int64_t k = begin; k < end; ++k) {
        const float w_even = lut[codes[k] >> 4] * scales[s];
        const float w_odd = lut[codes[k] & 0x0F] * scales[s];
        sum += w_even * x[quad_even_index(k)] + w_odd * x[quad_odd_index(k, n_in)];
      }
    }
    out[r * out_stride] = sum;
  }
}

void make_q8_activations(const float* x, int64_t n_in, int64_t n_rows, Q8Order order, int8_t* xq,
                                 float* xd) {
  const int64_t groups = n_in / 32;
  for (int64_t r = 0; r < n_rows; ++r) {
    for (int64_t g = 0; g < groups; ++g) {
      const float* v = x + r * n_in + 32 * g;
      float amax = 0.0f;
      for (int i = 0; i < 32; ++i) amax = std::max(amax, std::fabs(v[i]));
      const float inverse = amax > 0.0f ? 127.0f / amax : 0.0f;
      int8_t* q = xq + r * n_in + 32 * g;
      for (int i = 0; i < 32; ++i) {
        const auto level = static_cast<int8_t>(std::clamp(std::nearbyint(v[i] * inverse), -127.0f, 127.0f));
        q[order == Q8Order::kNatural ? i : i % 2 == 0 ? i / 2 : 16 + i / 2] = level;
      }
      xd[r * groups + g] = amax / 127.0f;
    }
  }
}

void dot_4bit_q8_row(const uint8_t* codes, const float* scales, int64_t first_group, int64_t groups_per_block,
                             const int8_t* lut_i8, const int8_t* xq, const float* xd, int64_t n_in, int64_t n_rows,
                             float* out, int64_t out_stride) {
  const int64_t groups = n_in / 32;
  for (int64_t r = 0; r < n_rows; ++r) {
    float sum = 0.0f;
    for (int64_t g = 0; g < groups; ++g) {
      const uint8_t* c = codes + 16 * g;
      const int8_t* q = xq + r * n_in + 32 * g;
      int32_t dot = 0;
      for (int i = 0; i < 16; ++i) dot += lut_i8[c[i] >> 4] * q[i] + lut_i8[c[i] & 0x0F] * q[16 + i];
      const float scale = scales[(first_group + g) / groups_per_block] * (1.0f / 127.0f);
      sum += static_cast<float>(dot) * (xd[r * groups + g] * scale);
    }
    out[r * out_stride] = sum;
  }
}

void dot_int8_q8_row(const int8_t* q, float scale, const int8_t* xq, const float* xd, int64_t n_in,
                             int64_t n_rows, float* out, int64_t out_stride) {
  const int64_t groups = n_in / 32;
  for (int64_t r = 0; r < n_rows; ++r) {
    float sum = 0.0f;
    for (int64_t g = 0; g < groups; ++g) {
      int32_t dot = 0;
      for (int i = 0; i < 32; ++i) dot += q[32 * g + i] * xq[r * n_in + 32 * g + i];
      sum += static_cast<float>(dot) * xd[r * groups + g];
    }
    out[r * out_stride] = sum * scale;
  }
}

void dot_q8_0_q8_row(const uint8_t* blocks, const int8_t* xq, const float* xd, int64_t n_in, int64_t n_rows,
                             float* out, int64_t out_stride) {
  const int64_t groups = n_in / 32;
  for (int64_t r = 0; r < n_rows; ++r) {
    float sum = 0.0f;
    for (int64_t g = 0; g < groups; ++g) {
      const uint8_t* block = blocks + g * 34;
      const auto* q = reinterpret_cast<const int8_t*>(block + 2);
      int32_t dot = 0;
      for (int i = 0; i < 32; ++i) dot += q[i] * xq[r * n_in + 32 * g + i];
      sum += static_cast<float>(dot) * (q8_0_block_scale(block) * xd[r * groups + g]);
    }
    out[r * out_stride] = sum;
  }
}

void dot_int8_row(const int8_t* q, float scale, const float* x, int64_t x_stride, int64_t n_in, int64_t n_rows,
                          float* out, int64_t out_stride) {
  for (int64_t r = 0; r < n_rows; ++r) {
    const float* xr = x + r * x_stride;
    float sum = 0.0f;
    for (int64_t i = 0; i < n_in; ++i) sum += static_cast<float>(q[i]) * xr[i];
    out[r * out_stride] = sum * scale;
  }
}

void dot_q8_0_row(const uint8_t* blocks, const float* x, int64_t x_stride, int64_t n_in, int64_t n_rows,
                          float* out, int64_t out_stride) {
  const int64_t num_blocks = n_in / 32;
  for (int64_t r = 0; r < n_rows; ++r) {
    const float* xr = x + r * x_stride;
    float sum = 0.0f;
    for (int64_t b = 0; b < num_blocks; ++b) {
      const uint8_t* block = blocks + b * 34;
      const auto* q = reinterpret_cast<const int8_t*>(block + 2);
      float block_sum = 0.0f;
      for (int j = 0; j < 32; ++j) block_sum += static_cast<float>(q[j]) * xr[b * 32 + j];
      sum += q8_0_block_scale(block) * block_sum;
    }
    out[r * out_stride] = sum;
  }
}

}  // namespace pagedllm::generic
