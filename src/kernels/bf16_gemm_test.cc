// The AVX512-BF16 GEMM (gemm_bf16) against the exact and the bf16-emulated products computed in double, with the
// bounds stated in bf16_product_test_util.h.
// On a CPU without AVX512-BF16 (or with PAGEDLLM_NO_BF16=1) gemm_bf16 must refuse and leave C alone.
#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <fstream>
#include <string>
#include <vector>

#include "kernels/cpu_features.h"
#include "kernels/bf16_product_test_util.h"
#include "kernels/gemm.h"
#include "util/half.h"
#include "util/rng.h"
#include "util/thread_pool.h"

namespace pagedllm {
namespace {

using testing::expect_bf16_product_matches;

void expect_bf16_gemm_matches(WeightFormat format, bool trans_b, int64_t m, int64_t n, int64_t k, float beta,
                              bool serial) {
  expect_bf16_product_matches(
      [&](const float* a, int64_t lda, const void* b, int64_t ldb, float* c, int64_t ldc) {
        return serial ? gemm_bf16_serial(format, trans_b, m, n, k, a, lda, b, ldb, beta, c, ldc)
                      : gemm_bf16(format, trans_b, m, n, k, a, lda, b, ldb, beta, c, ldc);
      },
      format, trans_b, m, n, k, beta);
}

TEST(Bf16Gemm, MatchesReferencesOnAwkwardShapes) {
  if (!has_avx512_bf16()) GTEST_SKIP() << "no AVX512-BF16 on this CPU (or PAGEDLLM_NO_BF16=1)";
  for (WeightFormat format : {WeightFormat::kBF16, WeightFormat::kF16, WeightFormat::kF32}) {
    for (bool trans_b : {true, false}) {
      for (float beta : {0.0f, 1.0f, 0.5f}) {
        // Edges of every block: 14-row strips, 32-column panels, 32-k transposes, odd k, 512-k depth blocks.
        for (auto [m, n, k] : std::vector<std::array<int64_t, 3>>{{1, 1, 1},
                                                                  {13, 31, 7},
                                                                  {14, 32, 32},
                                                                  {15, 33, 33},
                                                                  {28, 64, 64},
                                                                  {29, 257, 513},
                                                                  {3, 40, 1030}}) {
          expect_bf16_gemm_matches(format, trans_b, m, n, k, beta, /*serial=*/true);
        }
      }
    }
  }
}

// The pool entry splits the columns over threads; each slice must start at its own part of B.
TEST(Bf16Gemm, PoolSplitMatchesReferences) {
  if (!has_avx512_bf16()) GTEST_SKIP() << "no AVX512-BF16 on this CPU (or PAGEDLLM_NO_BF16=1)";
  for (WeightFormat format : {WeightFormat::kBF16, WeightFormat::kF32}) {
    for (bool trans_b : {true, false}) {
      expect_bf16_gemm_matches(format, trans_b, 70, 300, 260, 0.0f, /*serial=*/false);
    }
  }
}

TEST(Bf16Gemm, RefusesWithoutAvx512Bf16) {
  if (has_avx512_bf16()) GTEST_SKIP() << "this CPU runs AVX512-BF16; the PAGEDLLM_NO_BF16=1 ctest run covers this";
  std::vector<float> a(4 * 8, 1.0f), b(8 * 4, 1.0f), c(4 * 4, -3.0f);
  EXPECT_FALSE(gemm_bf16(WeightFormat::kF32, true, 4, 4, 8, a.data(), 8, b.data(), 8, 0.0f, c.data(), 4));
  EXPECT_FALSE(gemm_bf16_serial(WeightFormat::kF32, true, 4, 4, 8, a.data(), 8, b.data(), 8, 0.0f, c.data(), 4));
  for (float v : c) ASSERT_EQ(v, -3.0f);
}

int64_t thread_count() {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("Threads:", 0) == 0) return std::stoll(line.substr(8));
  }
  return -1;
}

// Thousands of mixed products (pool and serial, every B format, both layouts) leave the thread count as it was and
// every result right (checked against one recomputation of the same call).
TEST(Bf16Gemm, ThousandsOfMixedCallsLeakNoThreads) {
  if (!has_avx512_bf16()) GTEST_SKIP() << "no AVX512-BF16 on this CPU (or PAGEDLLM_NO_BF16=1)";
  std::vector<float> a(96 * 200, 0.25f), c(96 * 200);
  std::vector<uint16_t> b16(200 * 200, f32_to_bf16(0.5f));
  std::vector<float> b32(200 * 200, 0.5f);
  // Start the pool first (a test run on its own starts with none): only threads created by the calls would count.
  parallel_for(1024, 1, [](int64_t, int64_t) {});
  const int64_t threads_before = thread_count();
  for (int call = 0; call < 3000; ++call) {
    const int64_t m = 1 + call % 96, n = 1 + (call * 7) % 200, k = 1 + (call * 13) % 200;
    const WeightFormat format = call % 3 == 0 ? WeightFormat::kF32 : WeightFormat::kBF16;
    const void* b = format == WeightFormat::kF32 ? static_cast<const void*>(b32.data()) : b16.data();
    const bool trans_b = call % 2 == 0;
    const bool ran = call % 5 == 0 ? gemm_bf16_serial(format, trans_b, m, n, k, a.data(), k, b, trans_b ? k : n,
                                                      0.0f, c.data(), n)
                                   : gemm_bf16(format, trans_b, m, n, k, a.data(), k, b, trans_b ? k : n, 0.0f,
                                               c.data(), n);
    ASSERT_TRUE(ran);
    // 0.25 · 0.5 summed k times is exact in bf16 products and fp32 sums.
    ASSERT_EQ(c[(m - 1) * n + n - 1], 0.125f * static_cast<float>(k)) << "call " << call;
  }
  EXPECT_EQ(thread_count(), threads_before);
}

}  // namespace
}  // namespace pagedllm
