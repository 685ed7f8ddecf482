#include "kernels/swiglu.h"

#include <gtest/gtest.h>

#include "kernels/finite_difference_test_util.h"

namespace pagedllm {
namespace {

using testing::kGradCheckTolerance;

TEST(SwigluTest, ForwardIsSiluTimesUp) {
  const float gate[2] = {0.0f, 2.0f}, up[2] = {3.0f, 0.5f};
  float out[2];
  silu_mul_forward<float>(out, gate, up, 2);
  EXPECT_FLOAT_EQ(out[0], 0.0f);
  EXPECT_FLOAT_EQ(out[1], 2.0f / (1.0f + std::exp(-2.0f)) * 0.5f);
}

TEST(SwigluTest, GradientsMatchFiniteDifferences) {
  const int64_t n = 40;
  Rng rng(3);
  auto gate = testing::random_vector(rng, n, 4.0);
  auto up = testing::random_vector(rng, n, 2.0);
  const auto r = testing::random_vector(rng, n);
  std::vector<double> out(n);
  auto loss = [&] {
    silu_mul_forward<double>(out.data(), gate.data(), up.data(), n);
    return testing::weighted_sum(out, r);
  };
  std::vector<double> dgate(n), dup(n);
  silu_mul_backward<double>(dgate.data(), dup.data(), r.data(), gate.data(), up.data(), n);
  EXPECT_LT(testing::max_relative_error(dgate, testing::numeric_gradient(gate, loss)), kGradCheckTolerance);
  EXPECT_LT(testing::max_relative_error(dup, testing::numeric_gradient(up, loss)), kGradCheckTolerance);
}

}  // namespace
}  // namespace pagedllm
