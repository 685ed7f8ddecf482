#include "kernels/rope.h"

#include <gtest/gtest.h>

#include "kernels/finite_difference_test_util.h"

namespace pagedllm {
namespace {

using testing::kGradCheckTolerance;

TEST(RopeTest, ForwardRotatesPairsHalfApart) {
  // One token at position 1, one head of dim 4 (rotary_dim 4): pairs (0, 2) and (1, 3).
  std::vector<float> x = {1, 0, 0, 1};
  const int64_t pos = 1;
  const float inv_freq[2] = {static_cast<float>(M_PI / 2), 0.0f};
  rope_forward<float>(x.data(), &pos, 1, 1, 4, 4, inv_freq);
  EXPECT_NEAR(x[0], 0.0f, 1e-7f);  // (1, 0) rotated by 90°: (cos − 0, 0 + sin) = (0, 1); float cos(π/2) ≈ -4e-8
  EXPECT_NEAR(x[2], 1.0f, 1e-7f);
  EXPECT_FLOAT_EQ(x[1], 0.0f);  // angle 0: unchanged
  EXPECT_FLOAT_EQ(x[3], 1.0f);
}

TEST(RopeTest, GradientsMatchFiniteDifferencesWithPartialRotary) {
  const int64_t n_tokens = 3;
  const int n_heads = 2, head_dim = 6, rotary_dim = 4;
  const int64_t positions[3] = {0, 5, 17};
  const float inv_freq[2] = {1.0f, 0.01f};
  Rng rng(2);
  auto x = testing::random_vector(rng, n_tokens * n_heads * head_dim);
  const auto r = testing::random_vector(rng, x.size());
  auto loss = [&] {
    std::vector<double> out = x;
    rope_forward<double>(out.data(), positions, n_tokens, n_heads, head_dim, rotary_dim, inv_freq);
    return testing::weighted_sum(out, r);
  };
  std::vector<double> dx = r;
  rope_backward<double>(dx.data(), positions, n_tokens, n_heads, head_dim, rotary_dim, inv_freq);
  EXPECT_LT(testing::max_relative_error(dx, testing::numeric_gradient(x, loss)), kGradCheckTolerance);
}

}  // namespace
}  // namespace pagedllm
