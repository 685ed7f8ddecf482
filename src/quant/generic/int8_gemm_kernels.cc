#include "quant/generic/int8_gemm_kernels.h"

#include <cmath>
#include <cstring>

#include "util/half.h"

namespace pagedllm::generic {

float int8_group_of(const Int8GemmWeights& w, const float* absmax, int64_t first_block, int64_t j, int64_t g,
                    int8_t* values) {
  const int64_t first = j * w.n_in + 32 * g;  // the group's first value in the flattened matrix
  switch (w.layout) {
    case Int8GemmWeights::Layout::kFourBit: {
      const auto* codes = static_cast<const uint8_t*>(w.data) + first / 2;
      for (int k = 0; k < 16; ++k) {
        values[2 * k] = w.code_values[codes[k] >> 4];
        values[2 * k + 1] = w.code_values[codes[k] & 0x0F];
      }
      // As the decode kernels scale a group (the code values' step folded into the absmax).
      return absmax[first / w.block_size - first_block] * (1.0f / 127.0f);
    }
    case Int8GemmWeights::Layout::kQ8_0: {
      const auto* block = static_cast<const uint8_t*>(w.data) + (first / 32) * 34;
      std::memcpy(values, block + 2, 32);
      uint16_t d_bits;
      std::memcpy(&d_bits, block, 2);
      return f16_to_f32(d_bits);
    }
    case Int8GemmWeights::Layout::kInt8Rows:
      std::memcpy(values, static_cast<const int8_t*>(w.data) + first, 32);
      return w.row_scales[j];
  }
  return 0.0f;
}

void pack_int8_panel(const Int8GemmWeights& w, const float* absmax, int64_t first_block, int64_t j0, int64_t g0,
                     int64_t num_groups, uint8_t* panel, float* steps) {
  int8_t values[32];
  for (int64_t c = 0; c < kInt8PanelCols; ++c) {
    for (int64_t g = 0; g < num_groups; ++g) {
      float step = 0.0f;
      if (j0 + c < w.n_out) {
        step = int8_group_of(w, absmax, first_block, j0 + c, g0 + g, values);
      } else {
        std::memset(values, 0, sizeof values);
      }
      steps[g * kInt8PanelCols + c] = step;
      for (int i = 0; i < 32; ++i) {
        panel[((8 * g + i / 4) * kInt8PanelCols + c) * 4 + i % 4] = static_cast<uint8_t>(values[i] + 128);
      }
    }
  }
}

void int8_tile(int num_rows, const uint8_t* panel, const float* steps, int64_t num_groups, const int8_t* levels,
               int64_t ld_levels, const float* xd, const int32_t* starts, int64_t ld_groups, int num_cols, float* c,
               int64_t ldc, bool accumulate) {
  for (int r = 0; r < num_rows; ++r) {
    for (int col = 0; col < num_cols; ++col) {
      float acc = 0.0f;
      for (int64_t g = 0; g < num_groups; ++g) {
        int32_t sum = starts[r * ld_groups + g];
        for (int i = 0; i < 32; ++i) {
          sum += panel[((8 * g + i / 4) * kInt8PanelCols + col) * 4 + i % 4] * levels[r * ld_levels + 32 * g + i];
        }
        acc = std::fma(static_cast<float>(sum), steps[g * kInt8PanelCols + col] * xd[r * ld_groups + g], acc);
      }
      float& out = c[r * ldc + col];
      out = accumulate ? acc + out : acc;
    }
  }
}

}  // namespace pagedllm::generic
