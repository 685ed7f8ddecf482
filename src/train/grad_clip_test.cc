#include "train/grad_clip.h"

#include <gtest/gtest.h>

namespace pagedllm {
namespace {

TEST(GradClipTest, ScalesToMaxNormWhenAbove) {
  std::vector<float> a = {3, 0}, b = {4};
  const double norm = clip_grad_norm({a.data(), b.data()}, {2, 1}, 1.0);
  EXPECT_DOUBLE_EQ(norm, 5.0);
  const float coef = static_cast<float>(1.0 / (5.0 + 1e-6));
  EXPECT_FLOAT_EQ(a[0], 3 * coef);
  EXPECT_FLOAT_EQ(b[0], 4 * coef);
}

TEST(GradClipTest, LeavesSmallGradientsAlone) {
  std::vector<float> a = {0.3f, 0.4f};
  EXPECT_NEAR(clip_grad_norm({a.data()}, {2}, 1.0), 0.5, 1e-7);  // float inputs 0.3f, 0.4f
  EXPECT_EQ(a[0], 0.3f);
  EXPECT_EQ(a[1], 0.4f);
}

}  // namespace
}  // namespace pagedllm
