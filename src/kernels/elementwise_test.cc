#include "kernels/elementwise.h"
#include "kernels/rmsnorm.h"
#include "kernels/rope.h"
#include "kernels/swiglu.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <utility>
#include <vector>

#include "kernels/cpu_features.h"
#include "kernels/generic/elementwise.h"
#include "kernels/x86_avx2/elementwise.h"
#include "util/error.h"
#include "util/rng.h"

namespace pagedllm {
namespace {

constexpr double kUnitRoundoff = 0x1.0p-24;
constexpr float kInf = std::numeric_limits<float>::infinity();

std::vector<float> random_vector(int64_t n, Rng& rng, double scale = 1.0) {
  std::vector<float> v(n);
  for (float& x : v) x = static_cast<float>((rng.uniform() * 2.0 - 1.0) * scale);
  return v;
}

// Distance in units in the last place between two finite floats of the same sign.
int64_t ulp_distance(float a, float b) {
  int32_t ia, ib;
  std::memcpy(&ia, &a, 4);
  std::memcpy(&ib, &b, 4);
  return std::abs(static_cast<int64_t>(ia) - ib);
}

// The row lengths exercise the 8/16/32-wide main loops and every tail length.
const int64_t kDims[] = {1, 7, 8, 17, 31, 64, 100, 2051};

using RmsnormFn = void (*)(float*, const float*, const float*, int64_t, int64_t, float);
using RopeFn = void (*)(float*, const int64_t*, int64_t, int, int, int, const float*);
using SiluMulFn = void (*)(float*, const float*, const float*, int64_t);
using LogSoftmaxFn = void (*)(float*, const float*, int64_t, int64_t);

void check_rmsnorm(RmsnormFn fn, const char* name) {
  Rng rng(1);
  for (int64_t dim : kDims) {
    const int64_t n_rows = 3;
    std::vector<float> x = random_vector(n_rows * dim, rng, 3.0), w = random_vector(dim, rng);
    std::vector<float> out = x;
    fn(out.data(), out.data(), w.data(), n_rows, dim, 1e-5f);  // in place: out aliases x
    for (int64_t r = 0; r < n_rows; ++r) {
      double sum_sq = 0.0;
      for (int64_t i = 0; i < dim; ++i) sum_sq += static_cast<double>(x[r * dim + i]) * x[r * dim + i];
      double rstd = 1.0 / std::sqrt(sum_sq / dim + 1e-5);
      for (int64_t i = 0; i < dim; ++i) {
        double expected = x[r * dim + i] * rstd * w[i];
        // The sum of squares (positive terms) is within γ_dim relative; sqrt halves that; the three roundings
        // of division, sqrt and the two products add 4u.
        double tol = (0.5 * dim * kUnitRoundoff + 6 * kUnitRoundoff) * std::abs(expected) + 1e-30;
        ASSERT_NEAR(out[r * dim + i], expected, tol) << name << " dim " << dim;
      }
    }
  }
}

TEST(Elementwise, RmsnormMatchesDoubleReference) {
  check_rmsnorm(rmsnorm, "dispatch");
  check_rmsnorm(generic::rmsnorm, "generic");
}

TEST(Elementwise, Avx2RmsnormMatchesDoubleReference) {
  if (!has_avx2_fma_f16c()) GTEST_SKIP() << "no AVX2+FMA+F16C on this CPU: the avx2 path is not tested";
  check_rmsnorm(avx2::rmsnorm, "avx2");
}

void check_rope(RopeFn fn, const char* name) {
  Rng rng(2);
  for (int head_dim : {8, 64, 128, 18}) {
    for (int rotary_dim : {head_dim, head_dim / 2 / 2 * 2}) {
      const int n_heads = 3;
      const int64_t n_tokens = 4;
      std::vector<int64_t> positions = {0, 1, 17, 4000};
      std::vector<float> inv_freq(rotary_dim / 2);
      for (int i = 0; i < rotary_dim / 2; ++i) inv_freq[i] = static_cast<float>(std::pow(10000.0, -2.0 * i / rotary_dim));
      std::vector<float> x = random_vector(n_tokens * n_heads * head_dim, rng);
      std::vector<float> out = x;
      fn(out.data(), positions.data(), n_tokens, n_heads, head_dim, rotary_dim, inv_freq.data());
      int half = rotary_dim / 2;
      for (int64_t t = 0; t < n_tokens; ++t) {
        for (int h = 0; h < n_heads; ++h) {
          const float* in = x.data() + (t * n_heads + h) * head_dim;
          const float* got = out.data() + (t * n_heads + h) * head_dim;
          for (int i = 0; i < half; ++i) {
            // The angle is the fp32 product, as in Hugging Face's Llama; everything after it is exact here.
            double angle = static_cast<float>(positions[t]) * inv_freq[i];
            double c = std::cos(angle), s = std::sin(angle);
            // cos/sin of fp32 libm are within 1 ulp, then one product and one sum: 4u of |x|·(|c|+|s|) ≤ 2.
            double tol = 8 * kUnitRoundoff;
            ASSERT_NEAR(got[i], in[i] * c - in[i + half] * s, tol) << name << " " << head_dim;
            ASSERT_NEAR(got[i + half], in[i + half] * c + in[i] * s, tol) << name << " " << head_dim;
          }
          for (int i = rotary_dim; i < head_dim; ++i) ASSERT_EQ(got[i], in[i]);
        }
      }
    }
  }
}

TEST(Elementwise, RopeMatchesDoubleReferenceAndLeavesPassThroughDims) {
  check_rope(rope, "dispatch");
  check_rope(generic::rope, "generic");
}

TEST(Elementwise, Avx2RopeMatchesDoubleReferenceAndLeavesPassThroughDims) {
  if (!has_avx2_fma_f16c()) GTEST_SKIP() << "no AVX2+FMA+F16C on this CPU: the avx2 path is not tested";
  check_rope(avx2::rope, "avx2");
}

TEST(Elementwise, RopeRejectsOddRotaryDim) {
  std::vector<float> x(8);
  int64_t position = 0;
  float inv_freq[4] = {};
  EXPECT_THROW(rope(x.data(), &position, 1, 1, 8, 7, inv_freq), Error);
  EXPECT_THROW(rope(x.data(), &position, 1, 1, 8, 10, inv_freq), Error);
}

void check_silu_mul(SiluMulFn fn, const char* name) {
  Rng rng(3);
  for (int64_t n : kDims) {
    std::vector<float> gate = random_vector(n, rng, 20.0), up = random_vector(n, rng);
    gate[0] = -100.0f;  // e^100 overflows fp32: silu must still give ≈ 0
    std::vector<float> out = gate;
    fn(out.data(), out.data(), up.data(), n);  // in place: out aliases gate
    for (int64_t i = 0; i < n; ++i) {
      double g = gate[i];
      double expected = g / (1.0 + std::exp(-g)) * up[i];
      // exp within 2 ulp, then an add, a division and a product: 6u relative, plus a floor for the tiny values.
      ASSERT_NEAR(out[i], expected, 6 * kUnitRoundoff * std::abs(expected) + 1e-37) << name << " " << gate[i];
    }
  }
}

TEST(Elementwise, SiluMulMatchesDoubleReference) {
  check_silu_mul(silu_mul, "dispatch");
  check_silu_mul(generic::silu_mul, "generic");
}

TEST(Elementwise, Avx2SiluMulMatchesDoubleReference) {
  if (!has_avx2_fma_f16c()) GTEST_SKIP() << "no AVX2+FMA+F16C on this CPU: the avx2 path is not tested";
  check_silu_mul(avx2::silu_mul, "avx2");
}

// The vector kernel gives each element the same bits wherever its range is cut (the pool splits by thread count;
// model chunks start anywhere): its tail goes through the vector exp too.
TEST(Elementwise, Avx2SiluMulDoesNotDependOnWhereTheRangeIsCut) {
  if (!has_avx2_fma_f16c()) GTEST_SKIP() << "no AVX2+FMA+F16C on this CPU: the avx2 path is not tested";
  Rng rng(12);
  const int64_t n = 4099;
  const std::vector<float> gate = random_vector(n, rng, 8.0), up = random_vector(n, rng);
  std::vector<float> whole(n), parts(n);
  avx2::silu_mul(whole.data(), gate.data(), up.data(), n);
  // Cuts every 7 elements: each part but the last ends in a tail of 1-7 elements.
  for (int64_t begin = 0; begin < n; begin += 7) {
    const int64_t count = std::min<int64_t>(7, n - begin);
    avx2::silu_mul(parts.data() + begin, gate.data() + begin, up.data() + begin, count);
  }
  EXPECT_EQ(parts, whole);
}

using SiluMulBackwardFn = void (*)(float*, float*, const float*, const float*, const float*, int64_t);

// Against the double-precision derivative. σ carries ≤ 4u (exp within 2 ulp, an add, a division); then
// dup = dout·z·σ: 6u relative; dgate = dout·up·σ·f with f = 1 + z·(1 − σ), where 1 − σ cancels: |Δf| ≤
// |z|·(4u·σ + 2u·|1 − σ|) + u·|f|, so |Δdgate| ≤ 8u·|dout·up·σ|·(|f| + |z|).
void check_silu_mul_backward(SiluMulBackwardFn fn, const char* name) {
  Rng rng(17);
  for (int64_t n : kDims) {
    std::vector<float> gate = random_vector(n, rng, 20.0), up = random_vector(n, rng), dout = random_vector(n, rng);
    gate[0] = -100.0f;  // e^100 overflows fp32: σ = 0, both gradients ≈ 0, no NaN
    if (n > 1) gate[1] = 100.0f;
    std::vector<float> dgate(n), dup(n);
    fn(dgate.data(), dup.data(), dout.data(), gate.data(), up.data(), n);
    for (int64_t i = 0; i < n; ++i) {
      const double z = gate[i], sig = 1.0 / (1.0 + std::exp(-z)), f = 1.0 + z * (1.0 - sig);
      const double expected_up = dout[i] * z * sig, expected_gate = double(dout[i]) * up[i] * sig * f;
      ASSERT_NEAR(dup[i], expected_up, 6 * kUnitRoundoff * std::abs(expected_up) + 1e-37) << name << " " << z;
      ASSERT_NEAR(dgate[i], expected_gate,
                  8 * kUnitRoundoff * std::abs(double(dout[i]) * up[i] * sig) * (std::abs(f) + std::abs(z)) + 1e-37)
          << name << " " << z;
    }
  }
}

TEST(Elementwise, SiluMulBackwardMatchesDoubleReference) {
  check_silu_mul_backward(generic::silu_mul_backward, "generic");
  const auto dispatch = [](float* dg, float* du, const float* d, const float* g, const float* u, int64_t n) {
    silu_mul_backward<float>(dg, du, d, g, u, n);
  };
  check_silu_mul_backward(dispatch, "dispatch");
}

TEST(Elementwise, Avx2SiluMulBackwardMatchesDoubleReferenceWhereverTheRangeIsCut) {
  if (!has_avx2_fma_f16c()) GTEST_SKIP() << "no AVX2+FMA+F16C on this CPU: the avx2 path is not tested";
  check_silu_mul_backward(avx2::silu_mul_backward, "avx2");
  Rng rng(13);
  const int64_t n = 4099;
  const std::vector<float> gate = random_vector(n, rng, 8.0), up = random_vector(n, rng), dout = random_vector(n, rng);
  std::vector<float> dg_whole(n), du_whole(n), dg_parts(n), du_parts(n);
  avx2::silu_mul_backward(dg_whole.data(), du_whole.data(), dout.data(), gate.data(), up.data(), n);
  for (int64_t begin = 0; begin < n; begin += 7) {
    const int64_t count = std::min<int64_t>(7, n - begin);
    avx2::silu_mul_backward(dg_parts.data() + begin, du_parts.data() + begin, dout.data() + begin,
                            gate.data() + begin, up.data() + begin, count);
  }
  EXPECT_EQ(dg_parts, dg_whole);
  EXPECT_EQ(du_parts, du_whole);
}

TEST(Elementwise, AddInplaceIsExactFloatAddition) {
  Rng rng(4);
  for (int64_t n : kDims) {
    std::vector<float> y = random_vector(n, rng), x = random_vector(n, rng);
    std::vector<float> expected(n);
    for (int64_t i = 0; i < n; ++i) expected[i] = y[i] + x[i];
    add_inplace(y.data(), x.data(), n);
    EXPECT_EQ(y, expected);
  }
}

// Dropout with a mask: each path (and the pool entry, over a mask larger than one task) gives exactly the scalar
// definition's bits, kept elements scaled once, dropped ones 0 (or y unchanged).
using DropoutFn = void (*)(float*, const float*, const uint8_t*, int64_t, float);
void check_dropout(DropoutFn scale_fn, DropoutFn add_fn, const char* name) {
  Rng rng(6);
  for (int64_t n : {0, 1, 7, 8, 9, 33, 100, 70000}) {
    const std::vector<float> x = random_vector(n, rng);
    std::vector<uint8_t> keep(static_cast<size_t>(n));
    for (auto& k : keep) k = rng.uniform() < 0.3 ? 0 : 1;
    const float scale = 1.0f / 0.7f;
    std::vector<float> out(static_cast<size_t>(n), -5.0f), y = random_vector(n, rng);
    std::vector<float> expected_out(static_cast<size_t>(n)), expected_y = y;
    for (int64_t i = 0; i < n; ++i) {
      expected_out[i] = keep[i] ? scale * x[i] : 0.0f;
      if (keep[i]) expected_y[i] = std::fma(scale, x[i], expected_y[i]);
    }
    scale_fn(out.data(), x.data(), keep.data(), n, scale);
    add_fn(y.data(), x.data(), keep.data(), n, scale);
    EXPECT_EQ(out, expected_out) << name << " n=" << n;
    EXPECT_EQ(y, expected_y) << name << " n=" << n;
  }
}

TEST(Elementwise, DropoutIsTheScalarDefinition) {
  check_dropout(generic::dropout_scale, generic::add_dropout_scaled, "generic");
  check_dropout(dropout_scale, add_dropout_scaled, "dispatched");
}

TEST(Elementwise, Avx2DropoutIsTheScalarDefinition) {
  if (!has_avx2_fma_f16c()) GTEST_SKIP() << "no AVX2+FMA+F16C on this CPU: the avx2 path is not tested";
  check_dropout(avx2::dropout_scale, avx2::add_dropout_scaled, "avx2");
}

void check_log_softmax(LogSoftmaxFn fn, const char* name) {
  Rng rng(5);
  for (int64_t dim : {1, 7, 8, 33, 100, 32000}) {
    const int64_t n_rows = 2;
    std::vector<float> x = random_vector(n_rows * dim, rng, 10.0);
    if (dim > 1) x[dim - 1] = -kInf;  // a masked logit
    std::vector<float> out = x;
    fn(out.data(), out.data(), n_rows, dim);
    for (int64_t r = 0; r < n_rows; ++r) {
      const float* xr = x.data() + r * dim;
      double max = -kInf, sum = 0.0;
      for (int64_t i = 0; i < dim; ++i) max = std::max(max, static_cast<double>(xr[i]));
      for (int64_t i = 0; i < dim; ++i) sum += std::exp(xr[i] - max);
      double log_sum = std::log(sum);
      for (int64_t i = 0; i < dim; ++i) {
        double expected = xr[i] - max - log_sum;
        if (std::isinf(expected)) {
          ASSERT_EQ(out[r * dim + i], -kInf);
          continue;
        }
        // The fp32 sum of dim positive terms (each within 2 ulp) is within (dim + 2)·u relative, which moves
        // log(sum) by as much absolutely; the two subtractions round once each relative to the result.
        double tol = (dim + 2) * kUnitRoundoff + 2 * kUnitRoundoff * (std::abs(expected) + std::abs(max));
        ASSERT_NEAR(out[r * dim + i], expected, tol) << name << " dim " << dim;
      }
    }
  }
}

TEST(Elementwise, LogSoftmaxMatchesDoubleReference) {
  check_log_softmax(log_softmax, "dispatch");
  check_log_softmax(generic::log_softmax, "generic");
}

TEST(Elementwise, Avx2LogSoftmaxMatchesDoubleReference) {
  if (!has_avx2_fma_f16c()) GTEST_SKIP() << "no AVX2+FMA+F16C on this CPU: the avx2 path is not tested";
  check_log_softmax(avx2::log_softmax, "avx2");
}

// The two row kernels of the training loss, against double sums: log Σ e^x within the same bound as log_softmax's
// log term, and scale · e^(x - shift) within the vector exp's 2 ulp, the product's rounding and the fp32 rounding of
// the argument x - shift (an absolute error of u·|x - shift| there is that relative error in the result).
using LseFn = float (*)(const float*, int64_t);
using ExpFn = void (*)(float*, const float*, int64_t, float, float);

void check_log_sum_exp(LseFn lse_fn, ExpFn exp_fn, const char* name) {
  Rng rng(8);
  for (int64_t n : {1, 7, 8, 33, 32000}) {
    std::vector<float> x = random_vector(n, rng, 10.0);
    if (n > 1) x[n - 1] = -kInf;
    double max = -kInf, sum = 0.0;
    for (float v : x) max = std::max(max, static_cast<double>(v));
    for (float v : x) sum += std::exp(v - max);
    const double expected = max + std::log(sum);
    const float got = lse_fn(x.data(), n);
    ASSERT_NEAR(got, expected, (n + 2) * kUnitRoundoff + 2 * kUnitRoundoff * std::abs(expected)) << name << " " << n;
    std::vector<float> out(n, std::numeric_limits<float>::quiet_NaN());
    exp_fn(out.data(), x.data(), n, got, 0.25f);
    for (int64_t i = 0; i < n; ++i) {
      const double want = 0.25 * std::exp(static_cast<double>(x[i]) - got);
      if (std::isinf(x[i])) {
        ASSERT_EQ(out[i], 0.0f) << name << " " << n;  // a masked logit has probability 0
        continue;
      }
      const double argument = std::abs(static_cast<double>(x[i]) - got);
      ASSERT_NEAR(out[i], want, (4 + argument) * kUnitRoundoff * want + 1e-30) << name << " " << n << " " << i;
    }
  }
}

TEST(Elementwise, LogSumExpAndShiftedExpMatchDoubleReference) {
  check_log_sum_exp(log_sum_exp, exp_shifted_scaled, "dispatch");
  check_log_sum_exp(generic::log_sum_exp, generic::exp_shifted_scaled, "generic");
}

TEST(Elementwise, Avx2LogSumExpAndShiftedExpMatchDoubleReference) {
  if (!has_avx2_fma_f16c()) GTEST_SKIP() << "no AVX2+FMA+F16C on this CPU: the avx2 path is not tested";
  check_log_sum_exp(avx2::log_sum_exp, avx2::exp_shifted_scaled, "avx2");
}

TEST(Elementwise, VectorExpIsWithinTwoUlpOverTheNormalRange) {
  if (!has_avx2_fma_f16c()) GTEST_SKIP() << "no AVX2+FMA+F16C";
  const int64_t n = 200003;  // odd: the tail path runs too
  std::vector<float> x(n), y(n);
  for (int64_t i = 0; i < n; ++i) x[i] = static_cast<float>(-87.3 + (88.7 + 87.3) * i / (n - 1));
  avx2::exp_vector(y.data(), x.data(), n);
  for (int64_t i = 0; i < n; ++i) {
    float expected = static_cast<float>(std::exp(static_cast<double>(x[i])));
    ASSERT_LE(ulp_distance(y[i], expected), 2) << x[i];
  }
}

TEST(Elementwise, VectorExpSaturatesOutsideTheRange) {
  if (!has_avx2_fma_f16c()) GTEST_SKIP() << "no AVX2+FMA+F16C";
  std::vector<float> x = {-kInf, -1000.0f, -88.0f, 0.0f, 88.8f, 1000.0f, kInf, 88.72f};
  std::vector<float> y(x.size());
  avx2::exp_vector(y.data(), x.data(), static_cast<int64_t>(x.size()));
  EXPECT_EQ(y[0], 0.0f);
  EXPECT_EQ(y[1], 0.0f);
  EXPECT_EQ(y[2], 0.0f);
  EXPECT_EQ(y[3], 1.0f);
  EXPECT_EQ(y[4], kInf);
  EXPECT_EQ(y[5], kInf);
  EXPECT_EQ(y[6], kInf);
  EXPECT_LE(ulp_distance(y[7], static_cast<float>(std::exp(static_cast<double>(88.72f)))), 2);
}

}  // namespace
}  // namespace pagedllm
