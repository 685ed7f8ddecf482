#include "train/adamw.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "train/dynamic_map.h"
#include "util/rng.h"

namespace pagedllm {
namespace {

TEST(AdamWTest, FirstStepMovesByLearningRateTimesSign) {
  // After one step the bias-corrected m/sqrt(v) is g/|g|, so p moves by lr (up to eps).
  float p[2] = {1.0f, 1.0f}, m[2] = {0, 0}, v[2] = {0, 0};
  const float g[2] = {0.5f, -2.0f};
  adamw_update_32bit(p, g, m, v, 2, 0.1f, 1, AdamWOptions{});
  EXPECT_NEAR(p[0], 0.9f, 1e-6f);  // float rounding of the bias corrections
  EXPECT_NEAR(p[1], 1.1f, 1e-6f);
  EXPECT_FLOAT_EQ(m[0], 0.05f);
  EXPECT_EQ(v[1], (1.0f - 0.999f) * 4.0f);  // 1 − 0.999f is 0.00099998713 in float
}

TEST(AdamWTest, WeightDecayIsDecoupled) {
  // Zero gradient: the Adam term is 0/(0+eps) = 0; the parameter only decays by lr·wd.
  float p[1] = {2.0f}, m[1] = {0}, v[1] = {0};
  const float g[1] = {0.0f};
  AdamWOptions options;
  options.weight_decay = 0.1f;
  adamw_update_32bit(p, g, m, v, 1, 0.5f, 1, options);
  EXPECT_FLOAT_EQ(p[0], 2.0f * (1.0f - 0.05f));
}

TEST(AdamWTest, MatchesDoubleReferenceOverManySteps) {
  const int n = 16, num_steps = 50;
  const double lr = 1e-2, b1 = 0.9, b2 = 0.999, eps = 1e-8, wd = 0.01;
  Rng rng(11);
  std::vector<float> p(n), m(n, 0), v(n, 0), g(n);
  std::vector<double> pr(n), mr(n, 0), vr(n, 0);
  for (int i = 0; i < n; ++i) pr[i] = p[i] = static_cast<float>(rng.uniform());
  AdamWOptions options;
  options.weight_decay = static_cast<float>(wd);
  for (int t = 1; t <= num_steps; ++t) {
    for (auto& x : g) x = static_cast<float>(rng.normal());
    adamw_update_32bit(p.data(), g.data(), m.data(), v.data(), n, static_cast<float>(lr), t, options);
    for (int i = 0; i < n; ++i) {
      pr[i] *= 1 - lr * wd;
      mr[i] = b1 * mr[i] + (1 - b1) * g[i];
      vr[i] = b2 * vr[i] + (1 - b2) * double(g[i]) * g[i];
      pr[i] -= lr / (1 - std::pow(b1, t)) * mr[i] / (std::sqrt(vr[i]) / std::sqrt(1 - std::pow(b2, t)) + eps);
    }
  }
  // 50 steps of float rounding on updates of size ≤ lr: well under 1e-5 absolute.
  for (int i = 0; i < n; ++i) EXPECT_NEAR(p[i], pr[i], 1e-5) << i;
}

// The vectorized loop (adamw.cc is built so that it vectorizes) gives the bits of the scalar float statements, on
// a length with a remainder past the vector width and with weight decay, over several steps.
TEST(AdamWTest, VectorLoopGivesTheScalarBits) {
  const int n = 37, num_steps = 5;
  const float lr = 3e-3f;
  AdamWOptions o;
  o.weight_decay = 0.05f;
  Rng rng(21);
  std::vector<float> p(n), m(n, 0), v(n, 0), g(n);
  for (auto& x : p) x = static_cast<float>(rng.normal());
  std::vector<float> ps = p, ms = m, vs = v;
  for (int t = 1; t <= num_steps; ++t) {
    for (auto& x : g) x = static_cast<float>(rng.normal());
    adamw_update_32bit(p.data(), g.data(), m.data(), v.data(), n, lr, t, o);
    const float step_size = static_cast<float>(lr / (1.0 - std::pow(double(o.beta1), double(t))));
    const float bias2_sqrt = static_cast<float>(std::sqrt(1.0 - std::pow(double(o.beta2), double(t))));
    const float decay = 1.0f - lr * o.weight_decay;
    for (int i = 0; i < n; ++i) {  // volatile: one scalar rounding per statement, as the documented formula
      volatile float pi = ps[i] * decay;
      volatile float mi = o.beta1 * ms[i] + (1.0f - o.beta1) * g[i];
      volatile float vi = o.beta2 * vs[i] + (1.0f - o.beta2) * g[i] * g[i];
      ms[i] = mi;
      vs[i] = vi;
      ps[i] = pi - step_size * mi / (std::sqrt(float(vi)) / bias2_sqrt + o.eps);
    }
    ASSERT_EQ(p, ps) << "step " << t;
    ASSERT_EQ(m, ms) << "step " << t;
    ASSERT_EQ(v, vs) << "step " << t;
  }
}

TEST(AdamW8bitTest, FirstStepEqualsThirtyTwoBitAndStoresBlockAbsmax) {
  const int n = 256;
  Rng rng(12);
  std::vector<float> g(n), p32(n), p8(n), m(n, 0), v(n, 0);
  for (int i = 0; i < n; ++i) {
    g[i] = static_cast<float>(rng.normal());
    p32[i] = p8[i] = static_cast<float>(rng.uniform());
  }
  g[17] = 5.0f;  // the block's largest |g|: its moments get the top codes
  std::vector<uint8_t> m_codes(n, 0), v_codes(n, 0);
  float absmax_m = 0, absmax_v = 0;
  adamw_update_32bit(p32.data(), g.data(), m.data(), v.data(), n, 1e-3f, 1, AdamWOptions{});
  adamw_update_8bit_block(p8.data(), g.data(), m_codes.data(), v_codes.data(), &absmax_m, &absmax_v, n, 1e-3f, 1,
                          AdamWOptions{});
  // Step 1 uses the fp32 moments (quantization only affects later steps); the two formulas differ by rounding.
  for (int i = 0; i < n; ++i) EXPECT_NEAR(p8[i], p32[i], 1e-6f) << i;
  EXPECT_EQ(absmax_m, (1.0f - 0.9f) * 5.0f);
  EXPECT_FLOAT_EQ(absmax_v, (1.0f - 0.999f) * 25.0f);
  EXPECT_EQ(m_codes[17], 255);
  EXPECT_EQ(v_codes[17], 255);
  for (int i = 0; i < n; ++i) {
    EXPECT_EQ(std::signbit(dynamic_map(true)[m_codes[i]]), std::signbit(g[i])) << i;
  }
}

TEST(AdamW8bitTest, TracksThirtyTwoBitOverManySteps) {
  const int n = 256, num_steps = 100;
  Rng rng(13);
  std::vector<float> g(n), p32(n, 0.0f), p8(n, 0.0f), m(n, 0), v(n, 0);
  std::vector<uint8_t> m_codes(n, 0), v_codes(n, 0);
  float absmax_m = 0, absmax_v = 0;
  for (int t = 1; t <= num_steps; ++t) {
    for (int i = 0; i < n; ++i) g[i] = static_cast<float>(rng.normal() + 0.5);
    adamw_update_32bit(p32.data(), g.data(), m.data(), v.data(), n, 1e-3f, t, AdamWOptions{});
    adamw_update_8bit_block(p8.data(), g.data(), m_codes.data(), v_codes.data(), &absmax_m, &absmax_v, n, 1e-3f, t,
                            AdamWOptions{});
  }
  // Both drift by ~lr·t·E[m/sqrt(v)] ≈ 0.04; 8-bit moments carry ~1% relative error, so the paths stay within a
  // few percent of the total movement.
  double max_diff = 0;
  for (int i = 0; i < n; ++i) max_diff = std::max(max_diff, double(std::abs(p8[i] - p32[i])));
  EXPECT_LT(max_diff, 5e-3);
  EXPECT_LT(p32[0], -0.01f);
}

}  // namespace
}  // namespace pagedllm
