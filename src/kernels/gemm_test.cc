#include "kernels/gemm.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "kernels/cpu_features.h"
#include "kernels/x86_avx512/sgemm.h"
#include "util/rng.h"

namespace pagedllm {
namespace {

std::vector<float> random_matrix(Rng& rng, int64_t n) {
  std::vector<float> v(static_cast<size_t>(n));
  for (float& x : v) x = static_cast<float>(rng.uniform() * 2.0 - 1.0);
  return v;
}

// C = A · op(B) + beta · C in double, then |C - reference| ≤ 1e-5 · (Σ_p |a||b| + |beta·c|): fp32 products summed in
// a different order differ by at most ~k ulps of the magnitude sum, far below this for k ≤ 1000.
void expect_gemm_matches(bool avx512, bool trans_b, int64_t m, int64_t n, int64_t k, float beta, bool trans_a = false,
                         float alpha = 1.0f) {
  Rng rng(static_cast<uint64_t>(m * 7919 + n * 31 + k + (trans_b ? 1 : 0)));
  const int64_t lda = (trans_a ? m : k) + 3, ldb = (trans_b ? k : n) + 5, ldc = n + 2;
  const auto a = random_matrix(rng, (trans_a ? k : m) * lda);
  const auto a_at = [&](int64_t i, int64_t p) { return trans_a ? a[p * lda + i] : a[i * lda + p]; };
  const auto b = random_matrix(rng, (trans_b ? n : k) * ldb);
  auto c = random_matrix(rng, m * ldc);
  const auto c0 = c;
  if (avx512) {
    avx512::sgemm(trans_a, trans_b, m, n, k, alpha, a.data(), lda, b.data(), ldb, beta, c.data(), ldc);
  } else if (trans_a || alpha != 1.0f) {
    gemm_f32_general(trans_a, trans_b, m, n, k, alpha, a.data(), lda, b.data(), ldb, beta, c.data(), ldc);
  } else {
    gemm_f32(trans_b, m, n, k, a.data(), lda, b.data(), ldb, beta, c.data(), ldc);
  }
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t j = 0; j < ldc; ++j) {
      if (j >= n) {
        ASSERT_EQ(c[i * ldc + j], c0[i * ldc + j]) << "wrote outside C at " << i << "," << j;
        continue;
      }
      double sum = 0.0, magnitude = 0.0;
      for (int64_t p = 0; p < k; ++p) {
        const double bv = trans_b ? b[j * ldb + p] : b[p * ldb + j];
        sum += static_cast<double>(a_at(i, p)) * bv;
        magnitude += std::fabs(a_at(i, p) * bv);
      }
      sum *= alpha;
      magnitude *= std::fabs(alpha);
      const double old = beta == 0.0f ? 0.0 : static_cast<double>(beta) * c0[i * ldc + j];
      ASSERT_NEAR(c[i * ldc + j], sum + old, 1e-5 * (magnitude + std::fabs(old)) + 1e-6)
          << m << "x" << n << "x" << k << " trans_b=" << trans_b << " beta=" << beta << " at " << i << "," << j;
    }
  }
}

TEST(Gemm, MatchesDoubleReferenceOnAwkwardShapes) {
  for (bool trans_b : {false, true}) {
    for (float beta : {0.0f, 1.0f, 0.5f}) {
      for (auto [m, n, k] : std::vector<std::array<int64_t, 3>>{
               {1, 1, 1}, {3, 17, 5}, {14, 32, 384}, {15, 33, 385}, {29, 100, 800}, {64, 300, 70}, {5, 520, 1000}}) {
        expect_gemm_matches(false, trans_b, m, n, k, beta);
      }
    }
  }
}

// The AVX-512 kernel directly (gemm_f32 may take it or OpenBLAS), including tiles cut at every edge.
TEST(Gemm, Avx512KernelMatchesDoubleReference) {
  if (!has_avx512()) GTEST_SKIP() << "no AVX-512";
  for (bool trans_b : {false, true}) {
    for (float beta : {0.0f, 1.0f, 0.5f}) {
      for (auto [m, n, k] : std::vector<std::array<int64_t, 3>>{
               {1, 1, 1}, {13, 31, 7}, {14, 32, 384}, {15, 33, 385}, {28, 257, 769}, {41, 16, 3}, {2, 600, 50}}) {
        expect_gemm_matches(true, trans_b, m, n, k, beta);
        expect_gemm_matches(true, trans_b, m, n, k, beta, /*trans_a=*/true, /*alpha=*/-0.75f);
      }
    }
  }
}

// op(A) = Aᵀ and alpha ≠ 1 through the pool-parallel entry (AVX-512 or OpenBLAS, whichever this CPU takes).
TEST(Gemm, GeneralFormMatchesDoubleReference) {
  for (bool trans_a : {false, true}) {
    for (bool trans_b : {false, true}) {
      for (auto [m, n, k] : std::vector<std::array<int64_t, 3>>{{3, 17, 5}, {64, 200, 100}, {15, 600, 385}}) {
        expect_gemm_matches(false, trans_b, m, n, k, 0.5f, trans_a, 2.0f);
      }
    }
  }
}

}  // namespace
}  // namespace pagedllm
