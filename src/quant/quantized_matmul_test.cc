// Every product path of every quantized format against dequantize-then-fp32 (computed in double):
// fused decode (portable and AVX2), the tile GEMM path, the dispatching matmul, and dx = dy · W.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cmath>
#include <memory>

#include "kernels/cpu_features.h"
#include "quant/quant_kernels.h"
#include "quant/quantize.h"
#include "quant/quantized_weight.h"
#include "util/rng.h"

namespace pagedllm {
namespace {

struct Case {
  const char* name;
  QuantConfig config;
};

std::vector<Case> all_cases() {
  return {
      {"NF4", {WeightFormat::kNF4, 64, false, 256}},
      {"NF4+DQ", {WeightFormat::kNF4, 64, true, 256}},
      {"NF4 bs32", {WeightFormat::kNF4, 32, true, 256}},
      {"NF4 bs6", {WeightFormat::kNF4, 6, false, 256}},
      {"FP4", {WeightFormat::kFP4, 64, true, 256}},
      {"INT4", {WeightFormat::kInt4, 128, false, 256}},
      {"INT8", {WeightFormat::kInt8}},
      {"Q8_0", {WeightFormat::kQ8_0}},
  };
}

std::vector<float> random_vector(Rng& rng, int64_t n, double sigma) {
  std::vector<float> v(static_cast<size_t>(n));
  for (float& x : v) x = static_cast<float>(sigma * rng.normal());
  return v;
}

// Checks y (n_rows, n_out) against x · Wdqᵀ. Each entry may differ by the fp32 summation error of a length-n_in
// dot product, bounded by n_in · 2^-24 · Σ|w·x| (the different paths sum in different orders).
void expect_forward_matches(const std::vector<float>& wdq, const std::vector<float>& x, const std::vector<float>& y,
                            int64_t n_rows, int64_t n_out, int64_t n_in, const std::string& what) {
  for (int64_t r = 0; r < n_rows; ++r) {
    for (int64_t j = 0; j < n_out; ++j) {
      double exact = 0, magnitude = 0;
      for (int64_t i = 0; i < n_in; ++i) {
        exact += static_cast<double>(wdq[j * n_in + i]) * x[r * n_in + i];
        magnitude += std::fabs(static_cast<double>(wdq[j * n_in + i]) * x[r * n_in + i]);
      }
      ASSERT_NEAR(y[r * n_out + j], exact, n_in * 0x1p-24 * magnitude + 1e-30) << what << " r=" << r << " j=" << j;
    }
  }
}

std::vector<float> dequantized(const WeightMatrix& w) {
  std::vector<float> out(static_cast<size_t>(w.n_out() * w.n_in()));
  for (int64_t j = 0; j < w.n_out(); ++j) w.dequantize_row(j, out.data() + j * w.n_in());
  return out;
}

TEST(QuantizedMatmul, EveryPathMatchesDequantizedReference) {
  Rng rng(11);
  const int64_t shapes[][2] = {{37, 192}, {5, 64}, {130, 96}, {20, 172}};
  for (const auto& c : all_cases()) {
    for (const auto& shape : shapes) {
      const int64_t n_out = shape[0], n_in = shape[1];
      if (c.config.format == WeightFormat::kQ8_0 && n_in % 32 != 0) continue;
      const auto w = random_vector(rng, n_out * n_in, 0.05);
      auto matrix = quantize_weight(w.data(), n_out, n_in, c.config);
      const auto& q = dynamic_cast<const QuantizedWeight&>(*matrix);
      const auto wdq = dequantized(*matrix);
      for (int64_t n_rows : {1, 2, 3, 4, 5, 8, 9, 33}) {
        const auto x = random_vector(rng, n_rows * n_in, 1.0);
        std::vector<float> y(static_cast<size_t>(n_rows * n_out), -1.0f);
        const std::string what = fmt::format("{} ({}, {}) rows={}", c.name, n_out, n_in, n_rows);
        matrix->matmul(x.data(), y.data(), n_rows);
        expect_forward_matches(wdq, x, y, n_rows, n_out, n_in, what + " matmul");
        q.matmul_gemm(x.data(), y.data(), n_rows);
        expect_forward_matches(wdq, x, y, n_rows, n_out, n_in, what + " gemm");
        q.matmul_decode(x.data(), y.data(), n_rows, /*allow_avx2=*/false);
        expect_forward_matches(wdq, x, y, n_rows, n_out, n_in, what + " decode generic");
        if (has_avx2_fma_f16c()) {
          q.matmul_decode(x.data(), y.data(), n_rows, /*allow_avx2=*/true);
          expect_forward_matches(wdq, x, y, n_rows, n_out, n_in, what + " decode avx2");
        }
      }
    }
  }
}

TEST(QuantizedMatmul, BackwardInputMatchesDequantizedReference) {
  Rng rng(12);
  const int64_t n_out = 70, n_in = 320;
  for (const auto& c : all_cases()) {
    const auto w = random_vector(rng, n_out * n_in, 0.05);
    auto matrix = quantize_weight(w.data(), n_out, n_in, c.config);
    const auto wdq = dequantized(*matrix);
    for (int64_t n_rows : {1, 7, 20}) {
      const auto dy = random_vector(rng, n_rows * n_out, 1.0);
      std::vector<float> dx(static_cast<size_t>(n_rows * n_in), -1.0f);
      matrix->matmul_backward_input(dy.data(), dx.data(), n_rows);
      for (int64_t r = 0; r < n_rows; ++r) {
        for (int64_t i = 0; i < n_in; ++i) {
          double exact = 0, magnitude = 0;
          for (int64_t j = 0; j < n_out; ++j) {
            exact += static_cast<double>(dy[r * n_out + j]) * wdq[j * n_in + i];
            magnitude += std::fabs(static_cast<double>(dy[r * n_out + j]) * wdq[j * n_in + i]);
          }
          // Same bound as the forward product, over a length-n_out sum.
          ASSERT_NEAR(dx[r * n_in + i], exact, n_out * 0x1p-24 * magnitude + 1e-30)
              << c.name << " rows=" << n_rows << " r=" << r << " i=" << i;
        }
      }
    }
  }
}

// Groups of 8 values are stored evens first; a last group of 4 values keeps the rule.
TEST(QuantKernels, FourBitQuadsRegroupEvensThenOdds) {
  std::vector<float> x(12);
  for (int i = 0; i < 12; ++i) x[i] = static_cast<float>(i);
  std::vector<float> quads(12);
  make_4bit_quads(x.data(), 12, 1, quads.data());
  EXPECT_EQ(quads, (std::vector<float>{0, 2, 4, 6, 1, 3, 5, 7, 8, 10, 9, 11}));
}

// The AVX2 4-bit kernel on its own, on rows that start inside a block (first_offset > 0) and end in a partial one.
TEST(QuantKernels, Avx2FourBitRowMatchesGeneric) {
  if (!has_avx2_fma_f16c()) GTEST_SKIP() << "no AVX2+FMA+F16C on this CPU";
  Rng rng(13);
  const int64_t n_in = 172, block_size = 64;
  std::vector<uint8_t> codes(n_in / 2);
  for (auto& c : codes) c = static_cast<uint8_t>(rng.next_u64() & 0xFF);
  const auto scales = random_vector(rng, 5, 1.0);
  const auto lut = random_vector(rng, 16, 1.0);
  for (int64_t first_offset : {0, 2, 20, 62}) {
    for (int64_t n_rows = 1; n_rows <= 6; ++n_rows) {
      const auto x = random_vector(rng, n_rows * n_in, 1.0);
      std::vector<float> quads(x.size());
      make_4bit_quads(x.data(), n_in, n_rows, quads.data());
      std::vector<float> generic(n_rows), avx2(n_rows);
      dot_4bit_row_generic(codes.data(), scales.data(), block_size, first_offset, lut.data(), quads.data(), n_in,
                           n_rows, generic.data(), 1);
      dot_4bit_row_avx2(codes.data(), scales.data(), block_size, first_offset, lut.data(), quads.data(), n_in, n_rows,
                        avx2.data(), 1);
      for (int64_t r = 0; r < n_rows; ++r) {
        // Both are fp32 sums of the same 172 products in different orders; their magnitude is O(10) here.
        EXPECT_NEAR(avx2[r], generic[r], 1e-4f * (1 + std::fabs(generic[r]))) << first_offset << " " << r;
      }
    }
  }
}

}  // namespace
}  // namespace pagedllm
