#include "kernels/bf16_panels.h"

#include <cstring>

namespace pagedllm {
namespace {

float bf16_to_f32(uint32_t half) {
  const uint32_t bits = half << 16;
  float value;
  std::memcpy(&value, &bits, sizeof(value));
  return value;
}

// W[o, c] as fp32.
float panel_element(const uint32_t* panels, int64_t pairs, int64_t o, int64_t c) {
  const uint32_t word = panels[(o / kBf16PanelColumns * pairs + c / 2) * kBf16PanelColumns + o % kBf16PanelColumns];
  return bf16_to_f32(c % 2 == 0 ? word & 0xFFFFu : word >> 16);
}

}  // namespace

void pack_bf16_panels(const uint16_t* w, int64_t n_out, int64_t n_in, uint32_t* panels) {
  const int64_t pairs = bf16_panel_pairs(n_in);
  for (int64_t panel = 0; panel < bf16_panel_count(n_out); ++panel) {
    for (int64_t q = 0; q < pairs; ++q) {
      uint32_t* words = panels + (panel * pairs + q) * kBf16PanelColumns;
      for (int64_t lane = 0; lane < kBf16PanelColumns; ++lane) {
        const int64_t o = panel * kBf16PanelColumns + lane;
        const uint32_t even = o < n_out ? w[o * n_in + 2 * q] : 0;
        const uint32_t odd = o < n_out && 2 * q + 1 < n_in ? w[o * n_in + 2 * q + 1] : 0;
        words[lane] = even | (odd << 16);
      }
    }
  }
}

void bf16_panels_to_f32(const uint32_t* panels, int64_t n_in, int64_t row_begin, int64_t row_end, int64_t col_begin,
                        int64_t col_end, float* out) {
  const int64_t pairs = bf16_panel_pairs(n_in), width = col_end - col_begin;
  for (int64_t o = row_begin; o < row_end; ++o) {
    // Row o's words: one every kBf16PanelColumns from its lane of its panel.
    const uint32_t* lane = panels + o / kBf16PanelColumns * pairs * kBf16PanelColumns + o % kBf16PanelColumns;
    float* row = out + (o - row_begin) * width - col_begin;
    for (int64_t c = col_begin; c < col_end; ++c) {
      const uint32_t word = lane[c / 2 * kBf16PanelColumns];
      row[c] = bf16_to_f32(c % 2 == 0 ? word & 0xFFFFu : word >> 16);
    }
  }
}

namespace generic {

void bf16_panels_matmul_rows(const uint32_t* panels, int64_t n_in, int64_t row_begin, int64_t row_end,
                             const float* x, int64_t n_rows, float* y, int64_t ldy) {
  const int64_t pairs = bf16_panel_pairs(n_in);
  for (int64_t r = 0; r < n_rows; ++r) {
    for (int64_t o = row_begin; o < row_end; ++o) {
      float sum = 0.0f;
      for (int64_t c = 0; c < n_in; ++c) sum += x[r * n_in + c] * panel_element(panels, pairs, o, c);
      y[r * ldy + o] = sum;
    }
  }
}

}  // namespace generic
}  // namespace pagedllm
