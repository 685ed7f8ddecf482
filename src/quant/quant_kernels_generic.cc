#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include "kernels/cpu_features.h"
#include "quant/quant_kernels.h"
#include "quant/x86_avx512/q8_activations.h"
#include "util/half.h"

namespace pagedllm {
namespace {

// The f16 scale d at the start of a 34-byte Q8_0 block.
float q8_0_block_scale(const uint8_t* block) {
  uint16_t d_bits;
  std::memcpy(&d_bits, block, 2);
  return f16_to_f32(d_bits);
}

}  // namespace

void make_q8_lane_sums(const int8_t* xq, int64_t n_levels, int32_t* lane_sums) {
  for (int64_t i = 0; i + 4 <= n_levels; i += 4) {
    lane_sums[i / 4] = -128 * (int32_t{xq[i]} + xq[i + 1] + xq[i + 2] + xq[i + 3]);
  }
}

Q8QuadActivations::Q8QuadActivations(const float* x, int64_t n_in, int64_t n_rows)
    : levels_(static_cast<size_t>(n_rows * n_in)),
      starts_(static_cast<size_t>(n_rows * n_in / 4)),
      steps_(static_cast<size_t>(n_rows * n_in / 4)) {
  std::vector<int8_t> q(levels_.size());  // evens then odds per group of 32
  std::vector<float> xd(static_cast<size_t>(n_rows * n_in / 32));
  make_q8_activations(x, n_in, n_rows, Q8Order::kEvensThenOdds, q.data(), xd.data());
  const int64_t groups = n_in / 32;
  const int64_t chunks = groups / 4;
  for (int64_t r = 0; r < n_rows; ++r) {
    const int8_t* src = q.data() + r * n_in;
    int8_t* dst = levels_.data() + r * n_in;
    int32_t* starts = starts_.data() + r * (n_in / 4);
    float* steps = steps_.data() + r * (n_in / 4);
    const float* d = xd.data() + r * groups;
    for (int64_t c = 0; c < chunks; ++c) {
      for (int64_t k = 0; k < 4; ++k) {
        std::copy_n(src + 128 * c + 32 * k, 16, dst + 128 * c + 16 * k);
        std::copy_n(src + 128 * c + 32 * k + 16, 16, dst + 128 * c + 64 + 16 * k);
      }
      for (int64_t l = 0; l < 16; ++l) {
        const int8_t* even = dst + 128 * c + 4 * l;
        const int8_t* odd = even + 64;
        starts[16 * c + l] =
            -128 * (int32_t{even[0]} + even[1] + even[2] + even[3] + odd[0] + odd[1] + odd[2] + odd[3]);
        steps[16 * c + l] = d[4 * c + l / 4] / 127.0f;
      }
    }
    const int64_t tail = 128 * chunks;
    std::copy(src + tail, src + n_in, dst + tail);
    make_q8_lane_sums(dst + tail, n_in - tail, starts + 16 * chunks);
    for (int64_t g = 4 * chunks; g < groups; ++g) {
      std::fill_n(steps + 16 * chunks + 8 * (g - 4 * chunks), 8, d[g] / 127.0f);
    }
  }
}

bool vnni_quads_apply(int64_t n_in, int64_t block_size) {
  const int64_t groups_per_block = block_size / 32;
  return q8_activations_enabled() && n_in % 64 == 0 && block_size % 64 == 0 &&
         (groups_per_block & (groups_per_block - 1)) == 0;
}

void dequantize_4bit_generic(const uint8_t* codes, int64_t n, const float* lut, float scale, float* out) {
  for (int64_t k = 0; k < n / 2; ++k) {
    out[2 * k] = lut[codes[k] >> 4] * scale;
    out[2 * k + 1] = lut[codes[k] & 0x0F] * scale;
  }
}

void make_4bit_quads(const float* x, int64_t n_in, int64_t n_rows, float* x_quads) {
  for (int64_t r = 0; r < n_rows; ++r) {
    for (int64_t k = 0; k < n_in / 2; ++k) {
      x_quads[r * n_in + quad_even_index(k)] = x[r * n_in + 2 * k];
      x_quads[r * n_in + quad_odd_index(k, n_in)] = x[r * n_in + 2 * k + 1];
    }
  }
}

void dot_4bit_row_generic(const uint8_t* codes, const float* scales, int64_t block_size, int64_t first_offset,
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

bool q8_activations_apply(int64_t n_in, int64_t block_size) {
  return q8_activations_enabled() && n_in % 32 == 0 && block_size % 32 == 0;
}

bool q8_activations_enabled() {
  static const bool enabled = [] {
    const char* exact = std::getenv("PAGEDLLM_EXACT_QUANT_DECODE");
    return exact == nullptr || std::string_view(exact) != "1";
  }();
  return enabled;
}

void make_q8_activations(const float* x, int64_t n_in, int64_t n_rows, Q8Order order, int8_t* xq, float* xd) {
  if (has_avx512()) {
    avx512::make_q8_activations(x, n_in, n_rows, order, xq, xd);
    return;
  }
  make_q8_activations_generic(x, n_in, n_rows, order, xq, xd);
}

void make_q8_activations_generic(const float* x, int64_t n_in, int64_t n_rows, Q8Order order, int8_t* xq,
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

std::array<int8_t, 16> code_values_int8(const float* lut) {
  std::array<int8_t, 16> out{};
  for (int c = 0; c < 16; ++c) {
    out[c] = static_cast<int8_t>(std::clamp(std::nearbyint(127.0f * lut[c]), -127.0f, 127.0f));
  }
  return out;
}

void dot_4bit_q8_row_generic(const uint8_t* codes, const float* scales, int64_t first_group, int64_t groups_per_block,
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

void dot_int8_q8_row_generic(const int8_t* q, float scale, const int8_t* xq, const float* xd, int64_t n_in,
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

void dot_q8_0_q8_row_generic(const uint8_t* blocks, const int8_t* xq, const float* xd, int64_t n_in, int64_t n_rows,
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

void dot_int8_row_generic(const int8_t* q, float scale, const float* x, int64_t x_stride, int64_t n_in, int64_t n_rows,
                          float* out, int64_t out_stride) {
  for (int64_t r = 0; r < n_rows; ++r) {
    const float* xr = x + r * x_stride;
    float sum = 0.0f;
    for (int64_t i = 0; i < n_in; ++i) sum += static_cast<float>(q[i]) * xr[i];
    out[r * out_stride] = sum * scale;
  }
}

void dot_q8_0_row_generic(const uint8_t* blocks, const float* x, int64_t x_stride, int64_t n_in, int64_t n_rows,
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

}  // namespace pagedllm
