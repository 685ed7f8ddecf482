#include "train/lora.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "kernels/finite_difference_test_util.h"
#include "util/thread_pool.h"

namespace pagedllm {
namespace {

using testing::kGradCheckTolerance;

void check_lora_gradients(float dropout) {
  const int64_t n_rows = 4;
  const LoraDims dims{5, 3, 2, 16.0 / 2, dropout};
  Rng rng(7);
  auto x = testing::random_vector(rng, n_rows * dims.n_in);
  auto A = testing::random_vector(rng, dims.rank * dims.n_in);
  auto B = testing::random_vector(rng, dims.n_out * dims.rank);
  const auto r = testing::random_vector(rng, n_rows * dims.n_out);
  const std::vector<uint8_t> keep = make_dropout_mask(99, dropout, n_rows * dims.n_in);
  const uint8_t* keep_ptr = keep.empty() ? nullptr : keep.data();
  std::vector<double> y(n_rows * dims.n_out), xa(n_rows * dims.rank);
  auto loss = [&] {
    std::fill(y.begin(), y.end(), 0.0);
    lora_forward<double>(y.data(), xa.data(), x.data(), keep_ptr, A.data(), B.data(), n_rows, dims);
    return testing::weighted_sum(y, r);
  };
  loss();
  std::vector<double> dx(x.size(), 0.0), dA(A.size(), 0.0), dB(B.size(), 0.0);
  lora_backward<double>(dx.data(), dA.data(), dB.data(), r.data(), x.data(), keep_ptr, xa.data(), A.data(), B.data(),
                        n_rows, dims);
  EXPECT_LT(testing::max_relative_error(dx, testing::numeric_gradient(x, loss)), kGradCheckTolerance);
  EXPECT_LT(testing::max_relative_error(dA, testing::numeric_gradient(A, loss)), kGradCheckTolerance);
  EXPECT_LT(testing::max_relative_error(dB, testing::numeric_gradient(B, loss)), kGradCheckTolerance);
}

TEST(LoraTest, GradientsMatchFiniteDifferencesWithoutDropout) { check_lora_gradients(0.0f); }

TEST(LoraTest, GradientsMatchFiniteDifferencesWithDropout) { check_lora_gradients(0.3f); }

TEST(LoraTest, ForwardAddsScaledLowRankProduct) {
  const LoraDims dims{2, 1, 1, 0.5, 0.0f};
  const float x[2] = {1, 2}, A[2] = {3, 4}, B[1] = {2};
  float y[1] = {10}, xa[1];
  lora_forward<float>(y, xa, x, nullptr, A, B, 1, dims);
  EXPECT_EQ(xa[0], 11.0f);
  EXPECT_EQ(y[0], 10.0f + 0.5f * 11.0f * 2.0f);
}

TEST(LoraTest, DropoutMaskIsReproducibleFromItsSeed) {
  const auto a = make_dropout_mask(dropout_seed(1, 10, 0, 3, 2), 0.5f, 1000);
  const auto b = make_dropout_mask(dropout_seed(1, 10, 0, 3, 2), 0.5f, 1000);
  const auto c = make_dropout_mask(dropout_seed(1, 10, 0, 3, 1), 0.5f, 1000);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  const int64_t kept = std::count(a.begin(), a.end(), 1);
  EXPECT_GT(kept, 400);  // Binomial(1000, 0.5): ±100 is beyond 6 standard deviations
  EXPECT_LT(kept, 600);
  EXPECT_TRUE(make_dropout_mask(1, 0.0f, 10).empty());

  // Drawn into a reused buffer (another mask's bytes, a larger size, or garbage): the same mask.
  std::vector<uint8_t> reused(5000, 7);
  make_dropout_mask(reused, dropout_seed(1, 10, 0, 3, 2), 0.5f, 1000);
  EXPECT_EQ(reused, a);
  make_dropout_mask(reused, dropout_seed(1, 10, 0, 3, 1), 0.5f, 1000);
  EXPECT_EQ(reused, c);
  make_dropout_mask(reused, 1, 0.0f, 10);
  EXPECT_TRUE(reused.empty());
}

TEST(LoraTest, DropoutMaskDoesNotDependOnTheThreadCount) {
  const int64_t n = 5 * kDropoutRun + 123;
  const int threads = num_threads();
  set_num_threads(1);
  const auto one = make_dropout_mask(7, 0.3f, n);
  set_num_threads(2);
  const auto two = make_dropout_mask(7, 0.3f, n);
  set_num_threads(threads);
  EXPECT_EQ(one, two);
  // Runs come from different generators: the first two runs differ.
  EXPECT_FALSE(std::equal(one.begin(), one.begin() + kDropoutRun, one.begin() + kDropoutRun));
}

}  // namespace
}  // namespace pagedllm
