// gemm_in (kernels/gemm.h): float products in a chosen compute dtype, and the pool's split of a product's output.
//   kBF16 against two references computed in double: the exact product, within (2⁻⁷ + 2⁻¹⁶) · |alpha| · Σ|a·b|
//   (each factor rounded to bf16 once); and alpha times the product of the bf16-rounded operands, within
//   1e-5 · Σ|a·b|: this one fails if the product ran in fp32.
//   kF32 gives gemm<float>'s bits, and so does kBF16 on a CPU without the bf16 GEMM.
// The pool splits C by columns, or by rows when it has too few columns (a rank-64 adapter's 64): either split must
// give the serial product's bits, since every element is summed over k in the same order.
#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "kernels/cpu_features.h"
#include "kernels/gemm.h"
#include "util/half.h"
#include "util/rng.h"

namespace pagedllm {
namespace {

std::vector<float> random_values(Rng& rng, int64_t n) {
  std::vector<float> v(static_cast<size_t>(n));
  for (float& x : v) x = static_cast<float>(rng.uniform() * 2.0 - 1.0);
  return v;
}

double to_bf16(float v) { return bf16_to_f32(f32_to_bf16(v)); }

void expect_bf16_gemm_in_matches(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha,
                                 float beta) {
  Rng rng(static_cast<uint64_t>(m * 131 + n * 17 + k * 5 + trans_a * 2 + trans_b));
  const std::vector<float> a = random_values(rng, m * k), b = random_values(rng, k * n);
  std::vector<float> c = random_values(rng, m * n);
  const std::vector<float> c0 = c;
  gemm_in<float>(ComputeDType::kBF16, trans_a, trans_b, m, n, k, alpha, a.data(), b.data(), beta, c.data());
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t j = 0; j < n; ++j) {
      double exact = 0.0, emulated = 0.0, magnitude = 0.0;
      for (int64_t p = 0; p < k; ++p) {
        const float av = trans_a ? a[p * m + i] : a[i * k + p];
        const float bv = trans_b ? b[j * k + p] : b[p * n + j];
        exact += static_cast<double>(av) * bv;
        emulated += alpha * to_bf16(av) * to_bf16(bv);
        magnitude += std::fabs(static_cast<double>(alpha) * av * bv);
      }
      const double old = beta == 0.0f ? 0.0 : static_cast<double>(beta) * c0[i * n + j];
      const float got = c[i * n + j];
      const auto where = [&] {
        return std::to_string(m) + "x" + std::to_string(n) + "x" + std::to_string(k) + " trans_a=" +
               std::to_string(trans_a) + " trans_b=" + std::to_string(trans_b) + " alpha=" + std::to_string(alpha) +
               " beta=" + std::to_string(beta) + " at " + std::to_string(i) + "," + std::to_string(j);
      };
      ASSERT_NEAR(got, alpha * exact + old,
                  (0x1.0p-7 + 0x1.0p-16) * magnitude + 1e-6 * (magnitude + std::fabs(old)) + 1e-6)
          << where();
      ASSERT_NEAR(got, emulated + old, 1e-5 * (magnitude + std::fabs(old)) + 1e-6) << where();
    }
  }
}

TEST(GemmIn, Bf16MatchesReferencesInEveryLayout) {
  if (!has_avx512_bf16()) GTEST_SKIP() << "no AVX512-BF16 on this CPU (or PAGEDLLM_NO_BF16=1)";
  for (bool trans_a : {false, true}) {
    for (bool trans_b : {false, true}) {
      for (float alpha : {1.0f, 0.375f}) {
        for (float beta : {0.0f, 1.0f}) {
          // A LoRA-shaped product (64 columns: split by rows), its transpose, and ragged small ones.
          for (auto [m, n, k] : std::vector<std::array<int64_t, 3>>{{300, 64, 96}, {64, 200, 300}, {5, 3, 7},
                                                                    {29, 70, 33}}) {
            expect_bf16_gemm_in_matches(trans_a, trans_b, m, n, k, alpha, beta);
          }
        }
      }
    }
  }
}

TEST(GemmIn, F32IsGemmBitForBit) {
  Rng rng(5);
  const int64_t m = 70, n = 90, k = 110;
  const std::vector<float> a = random_values(rng, m * k), b = random_values(rng, k * n), c0 = random_values(rng, m * n);
  for (bool trans_a : {false, true}) {
    std::vector<float> expected = c0, got = c0;
    gemm<float>(trans_a, true, m, n, k, 0.5f, a.data(), b.data(), 1.0f, expected.data());
    gemm_in<float>(ComputeDType::kF32, trans_a, true, m, n, k, 0.5f, a.data(), b.data(), 1.0f, got.data());
    ASSERT_EQ(got, expected) << "trans_a=" << trans_a;
    if (has_avx512_bf16()) continue;
    // Without the bf16 GEMM (or with PAGEDLLM_NO_BF16=1) kBF16 falls back to the same fp32 product.
    got = c0;
    gemm_in<float>(ComputeDType::kBF16, trans_a, true, m, n, k, 0.5f, a.data(), b.data(), 1.0f, got.data());
    ASSERT_EQ(got, expected) << "kBF16 without the bf16 GEMM, trans_a=" << trans_a;
  }
}

// Large enough for the pool (m·n·k ≥ 2²⁰); 64 columns take the row split, the others the column split (192 and 576
// end inside a 64-column group, the LoRA adapters' widths; 512 and 600 rows end inside a 28-row group).
TEST(GemmPoolSplit, RowAndColumnSlicesGiveTheSerialBits) {
  Rng rng(9);
  for (const auto& [m, n] : {std::pair<int64_t, int64_t>{600, 64}, {600, 640}, {512, 64}, {512, 192}, {512, 576}}) {
    const int64_t k = 200;
    const std::vector<float> a = random_values(rng, m * k), b = random_values(rng, k * n);
    for (bool trans_a : {false, true}) {
      std::vector<float> pooled(static_cast<size_t>(m * n)), serial(static_cast<size_t>(m * n));
      const int64_t lda = trans_a ? m : k;
      gemm_f32_general(trans_a, false, m, n, k, 1.0f, a.data(), lda, b.data(), n, 0.0f, pooled.data(), n);
      gemm_f32_general_serial(trans_a, false, m, n, k, 1.0f, a.data(), lda, b.data(), n, 0.0f, serial.data(), n);
      ASSERT_EQ(pooled, serial) << "m=" << m << " n=" << n << " trans_a=" << trans_a;
      if (!has_avx512_bf16()) continue;
      if (trans_a) continue;  // the bf16 GEMM reads A row-major only
      gemm_bf16(WeightFormat::kF32, false, m, n, k, a.data(), k, b.data(), n, 0.0f, pooled.data(), n);
      gemm_bf16_serial(WeightFormat::kF32, false, m, n, k, a.data(), k, b.data(), n, 0.0f, serial.data(), n);
      ASSERT_EQ(pooled, serial) << "bf16 m=" << m << " n=" << n;
    }
  }
}

}  // namespace
}  // namespace pagedllm
