#include "kernels/rmsnorm.h"

#include <gtest/gtest.h>

#include "kernels/finite_difference_test_util.h"
#include "kernels/generic/elementwise.h"

namespace pagedllm {
namespace {

using testing::kGradCheckTolerance;

TEST(RmsnormTest, ForwardMatchesDefinition) {
  const std::vector<float> x = {1, 2, 3, 4, -1, 0, 1, 0};
  const std::vector<float> w = {1, 0.5f, 2, 1};
  std::vector<float> out(8), rstd(2);
  rmsnorm_forward<float>(out.data(), rstd.data(), x.data(), w.data(), 2, 4, 0.0f);
  EXPECT_FLOAT_EQ(rstd[0], 1.0f / std::sqrt(7.5f));
  EXPECT_FLOAT_EQ(rstd[1], 1.0f / std::sqrt(0.5f));
  EXPECT_FLOAT_EQ(out[2], 3.0f * rstd[0] * 2.0f);
  EXPECT_FLOAT_EQ(out[4], -1.0f * rstd[1]);
}

// The saved rstd is the scale the forward applied (out = (x·rstd)·w to the bit), and near the double value: the sum
// of squares within dim·u relative (vector or scalar order), halved by the square root, plus 3u for the mean, the
// root and the division.
TEST(RmsnormTest, SavedScaleIsTheAppliedOne) {
  const int64_t n_rows = 9, dim = 576;
  const float eps = 1e-5f;
  Rng rng(4);
  std::vector<float> x(n_rows * dim), w(dim);
  for (auto& v : x) v = static_cast<float>(rng.normal() * 3.0);
  for (auto& v : w) v = static_cast<float>(rng.normal());
  std::vector<float> out(n_rows * dim), rstd(n_rows);
  rmsnorm_forward<float>(out.data(), rstd.data(), x.data(), w.data(), n_rows, dim, eps);
  for (int64_t r = 0; r < n_rows; ++r) {
    double sum_sq = 0;
    for (int64_t i = 0; i < dim; ++i) sum_sq += double(x[r * dim + i]) * x[r * dim + i];
    const double expected = 1.0 / std::sqrt(sum_sq / dim + eps);
    EXPECT_NEAR(rstd[r], expected, (0.5 * dim + 3.0) * 0x1.0p-24 * expected) << r;
    for (int64_t i = 0; i < dim; ++i) ASSERT_EQ(out[r * dim + i], x[r * dim + i] * rstd[r] * w[i]) << r << " " << i;
  }
}

// The float backward (vector rows) against the double formula: the dot Σ dy·w·x within (dim + 2)·u·Σ|dy·w·x|,
// then dx_j = s·w_j·dy_j − coef·x_j within 4u of each term's size, plus |x_j|·s³/dim times the dot's error.
TEST(RmsnormTest, FloatBackwardMatchesDoubleFormula) {
  for (const int64_t dim : {int64_t{7}, int64_t{576}}) {
    const int64_t n_rows = 5;
    Rng rng(12);
    std::vector<float> x(n_rows * dim), dy(n_rows * dim), w(dim), rstd(n_rows), out(n_rows * dim);
    for (auto& v : x) v = static_cast<float>(rng.normal() * 2.0);
    for (auto& v : dy) v = static_cast<float>(rng.normal());
    for (auto& v : w) v = static_cast<float>(rng.normal());
    rmsnorm_forward<float>(out.data(), rstd.data(), x.data(), w.data(), n_rows, dim, 1e-5f);
    std::vector<float> dx(n_rows * dim), dx_generic(n_rows * dim);
    rmsnorm_backward<float>(dx.data(), nullptr, dy.data(), x.data(), w.data(), rstd.data(), n_rows, dim);
    generic::rmsnorm_backward_rows(dx_generic.data(), dy.data(), x.data(), w.data(), rstd.data(), n_rows, dim);
    constexpr double u = 0x1.0p-24;
    for (int64_t r = 0; r < n_rows; ++r) {
      const double s = rstd[r];
      double dot = 0, dot_abs = 0;
      for (int64_t i = 0; i < dim; ++i) {
        dot += double(dy[r * dim + i]) * w[i] * x[r * dim + i];
        dot_abs += std::abs(double(dy[r * dim + i]) * w[i] * x[r * dim + i]);
      }
      const double coef = s * s * s * dot / dim;
      for (int64_t i = 0; i < dim; ++i) {
        const double a = s * w[i] * dy[r * dim + i], b = coef * x[r * dim + i];
        const double bound = 4 * u * (std::abs(a) + std::abs(b)) +
                             std::abs(x[r * dim + i]) * s * s * s / dim * (dim + 2) * u * dot_abs;
        ASSERT_NEAR(dx[r * dim + i], a - b, bound) << dim << " " << r << " " << i;
        ASSERT_NEAR(dx_generic[r * dim + i], a - b, bound) << "generic " << dim << " " << r << " " << i;
      }
    }
  }
}

TEST(RmsnormTest, GradientsMatchFiniteDifferences) {
  const int64_t n_rows = 3, dim = 7;
  const double eps = 1e-5;
  Rng rng(1);
  auto x = testing::random_vector(rng, n_rows * dim);
  auto w = testing::random_vector(rng, dim);
  const auto r = testing::random_vector(rng, n_rows * dim);
  std::vector<double> out(n_rows * dim), rstd(n_rows);
  auto loss = [&] {
    rmsnorm_forward<double>(out.data(), rstd.data(), x.data(), w.data(), n_rows, dim, eps);
    return testing::weighted_sum(out, r);
  };
  loss();
  std::vector<double> dx(n_rows * dim), dw(dim, 0.5);  // dw starts non-zero: the gradient is accumulated
  rmsnorm_backward<double>(dx.data(), dw.data(), r.data(), x.data(), w.data(), rstd.data(), n_rows, dim);
  for (auto& g : dw) g -= 0.5;
  EXPECT_LT(testing::max_relative_error(dx, testing::numeric_gradient(x, loss)), kGradCheckTolerance);
  EXPECT_LT(testing::max_relative_error(dw, testing::numeric_gradient(w, loss)), kGradCheckTolerance);
}

TEST(RmsnormTest, NullWeightGradientIsSkipped) {
  const std::vector<float> x = {1, 2}, w = {1, 1}, dout = {1, 1};
  std::vector<float> out(2), rstd(1), dx(2);
  rmsnorm_forward<float>(out.data(), rstd.data(), x.data(), w.data(), 1, 2, 0.0f);
  rmsnorm_backward<float>(dx.data(), nullptr, dout.data(), x.data(), w.data(), rstd.data(), 1, 2);
  // out = x / sqrt(2.5); with dout = 1: dx_j = s − s³·x_j·(x_0 + x_1)/2.
  const float s = 1.0f / std::sqrt(2.5f);
  EXPECT_NEAR(dx[0], s - s * s * s * 1.0f * 1.5f, 1e-6f);  // float rounding of a few operations
  EXPECT_NEAR(dx[1], s - s * s * s * 2.0f * 1.5f, 1e-6f);
}

}  // namespace
}  // namespace pagedllm
