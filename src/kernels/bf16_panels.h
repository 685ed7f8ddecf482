// BF16 weights stored in the bf16 GEMM's panel layout (kernels/x86_avx512_bf16/bf16_gemm.h), packed once when the
// model loads instead of in every product. Why: a served batch's products multiply each weight by only 64 rows, and
// repacking W for each of them was 13–16% of a step (`perf` on `serve` and `bench throughput`, Zen 4).
//
// W (n_out, n_in) becomes ⌈n_out / 32⌉ panels of 32 rows; panel P holds, for each pair q < ⌈n_in / 2⌉, 32 words
// (one per row r = 32P + lane) of W[r][2q] in the low half and W[r][2q + 1] in the high half:
//   word(P, q, lane) = panels[(P · bf16_panel_pairs(n_in) + q) · 32 + lane]
// Rows past n_out and the odd column past n_in are zero. The bf16 values are W's own bits (nothing is rounded).
#pragma once

#include <cstdint>

namespace pagedllm {

constexpr int64_t kBf16PanelColumns = 32;

inline int64_t bf16_panel_pairs(int64_t n_in) { return (n_in + 1) / 2; }
inline int64_t bf16_panel_count(int64_t n_out) { return (n_out + kBf16PanelColumns - 1) / kBf16PanelColumns; }
inline int64_t bf16_panel_words(int64_t n_out, int64_t n_in) {
  return bf16_panel_count(n_out) * bf16_panel_pairs(n_in) * kBf16PanelColumns;
}

// Row-major bf16 W (n_out, n_in) → its panels (bf16_panel_words(n_out, n_in) words, every one written).
void pack_bf16_panels(const uint16_t* w, int64_t n_out, int64_t n_in, uint32_t* panels);

// out[(o − row_begin) · (col_end − col_begin) + (c − col_begin)] = W[o, c] as fp32 (exact), from W's panels.
void bf16_panels_to_f32(const uint32_t* panels, int64_t n_in, int64_t row_begin, int64_t row_end, int64_t col_begin,
                        int64_t col_end, float* out);

namespace generic {

// The portable reference of the streaming kernel: y[r · ldy + o] = x[r, :] · W[o, :] in fp32 for r < n_rows and
// row_begin ≤ o < row_end, W given as panels.
void bf16_panels_matmul_rows(const uint32_t* panels, int64_t n_in, int64_t row_begin, int64_t row_end,
                             const float* x, int64_t n_rows, float* y, int64_t ldy);

}  // namespace generic
}  // namespace pagedllm
