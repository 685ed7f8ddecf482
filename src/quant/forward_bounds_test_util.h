// Test helpers of the quantized products: random inputs, the dequantized reference and the error bounds every product
// path is checked with.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "kernels/weight_matrix.h"
#include "util/rng.h"

namespace pagedllm::testing {

inline std::vector<float> random_vector(Rng& rng, int64_t n, double sigma) {
  std::vector<float> v(static_cast<size_t>(n));
  for (float& x : v) x = static_cast<float>(sigma * rng.normal());
  return v;
}

inline std::vector<float> dequantized(const WeightMatrix& w) {
  std::vector<float> out(static_cast<size_t>(w.n_out() * w.n_in()));
  for (int64_t j = 0; j < w.n_out(); ++j) w.dequantize_row(j, out.data() + j * w.n_in());
  return out;
}

// Checks y (n_rows, n_out) against x · Wdqᵀ. Each entry may differ by the fp32 summation error of a length-n_in dot
// product, bounded by n_in · 2^-24 · Σ|w·x| (the different paths sum in different orders), and, for a product in bf16
// (`bf16`: both factors rounded to bf16, kernels/x86_avx512_bf16/bf16_gemm.h), by (2^-7 + 2^-16) · Σ|w·x| more (bf16
// keeps 8 significant bits: ≤ 2^-8 per rounded factor).
inline void expect_forward_matches(const std::vector<float>& wdq, const std::vector<float>& x,
                                   const std::vector<float>& y, int64_t n_rows, int64_t n_out, int64_t n_in,
                                   const std::string& what, bool bf16 = false) {
  for (int64_t r = 0; r < n_rows; ++r) {
    for (int64_t j = 0; j < n_out; ++j) {
      double exact = 0, magnitude = 0;
      for (int64_t i = 0; i < n_in; ++i) {
        exact += static_cast<double>(wdq[j * n_in + i]) * x[r * n_in + i];
        magnitude += std::fabs(static_cast<double>(wdq[j * n_in + i]) * x[r * n_in + i]);
      }
      ASSERT_NEAR(y[r * n_out + j], exact, (n_in * 0x1p-24 + (bf16 ? 0x1p-7 + 0x1p-16 : 0.0)) * magnitude + 1e-30)
          << what << " r=" << r << " j=" << j;
    }
  }
}

// The 8-bit-activation kernels (quant/quant_kernels.h): besides fp32 summation, each product carries the rounding of x
// to its group's 8-bit grid (≤ d/2, d = max|x over the 32-value group| / 127) and, for the 4-bit formats
// (code_block_size > 0), of the code value to round(127 · code) / 127 (≤ absmax / 254, absmax = max|w| over the
// weight's block of code_block_size values).
inline void expect_forward_matches_q8(const std::vector<float>& wdq, const std::vector<float>& x,
                                      const std::vector<float>& y, int64_t n_rows, int64_t n_out, int64_t n_in,
                                      int64_t code_block_size, const std::string& what) {
  const int64_t block_size = code_block_size > 0 ? code_block_size : n_out * n_in;
  std::vector<double> block_absmax((n_out * n_in + block_size - 1) / block_size, 0.0);
  if (code_block_size > 0) {
    for (int64_t v = 0; v < n_out * n_in; ++v) {
      block_absmax[v / block_size] = std::max(block_absmax[v / block_size], std::fabs(static_cast<double>(wdq[v])));
    }
  }
  for (int64_t r = 0; r < n_rows; ++r) {
    std::vector<double> group_step(n_in / 32, 0.0);
    for (int64_t i = 0; i < n_in; ++i) {
      group_step[i / 32] = std::max(group_step[i / 32], std::fabs(static_cast<double>(x[r * n_in + i])) / 127.0);
    }
    for (int64_t j = 0; j < n_out; ++j) {
      double exact = 0, magnitude = 0, rounding = 0;
      for (int64_t i = 0; i < n_in; ++i) {
        const double w = wdq[j * n_in + i], xi = x[r * n_in + i];
        const double d = group_step[i / 32], a = block_absmax[(j * n_in + i) / block_size];
        exact += w * xi;
        magnitude += std::fabs(w * xi) + std::fabs(w) * d + std::fabs(xi) * a / 127.0;
        rounding += std::fabs(w) * d / 2 + std::fabs(xi) * a / 254 + d * a / 508;
      }
      ASSERT_NEAR(y[r * n_out + j], exact, rounding + n_in * 0x1p-24 * magnitude + 1e-30)
          << what << " r=" << r << " j=" << j;
    }
  }
}

}  // namespace pagedllm::testing
