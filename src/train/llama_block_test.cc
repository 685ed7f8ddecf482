#include "train/llama_block.h"

#include <gtest/gtest.h>

#include "kernels/finite_difference_test_util.h"
#include "kernels/gemm.h"

namespace pagedllm {
namespace {

using testing::kGradCheckTolerance;

// A dense double frozen weight (n_out, n_in) for gradient checks.
FrozenLinear<double> dense_linear(const std::vector<double>& w, int64_t n_out, int64_t n_in) {
  return {n_in, n_out,
          [&w, n_out, n_in](const double* x, double* y, int64_t n) {
            gemm<double>(false, true, n, n_out, n_in, 1.0, x, w.data(), 0.0, y);
          },
          [&w, n_out, n_in](const double* dy, double* dx, int64_t n) {
            gemm<double>(false, false, n, n_in, n_out, 1.0, dy, w.data(), 0.0, dx);
          }};
}

// The whole block's gradients — dx and every adapter's dA and dB, with dropout and grouped-query heads — against
// central finite differences in double precision.
TEST(LlamaBlockTest, LoraAndInputGradientsMatchFiniteDifferences) {
  const float inv_freq[2] = {1.0f, 0.1f};
  BlockConfig config;
  config.dim = 8;
  config.hidden_dim = 12;
  config.n_heads = 2;
  config.n_kv_heads = 1;
  config.head_dim = 4;
  config.rotary_dim = 4;
  config.inv_freq = inv_freq;
  const int64_t rank = 2;
  const std::array<std::pair<int64_t, int64_t>, kNumLinearModules> shapes = {
      {{8, 8}, {4, 8}, {4, 8}, {8, 8}, {12, 8}, {12, 8}, {8, 12}}};  // (n_out, n_in)

  Rng rng(31);
  auto attn_norm = testing::random_vector(rng, 8, 1.0);
  auto mlp_norm = testing::random_vector(rng, 8, 1.0);
  std::array<std::vector<double>, kNumLinearModules> w, A, B, dA, dB;
  BlockWeights<double> weights{attn_norm.data(), mlp_norm.data(), {}};
  for (int m = 0; m < kNumLinearModules; ++m) {
    const auto [n_out, n_in] = shapes[m];
    w[m] = testing::random_vector(rng, n_out * n_in, 0.5);
    A[m] = testing::random_vector(rng, rank * n_in, 0.5);
    B[m] = testing::random_vector(rng, n_out * rank, 0.5);  // non-zero so that dA is exercised
    dA[m].assign(A[m].size(), 0.0);
    dB[m].assign(B[m].size(), 0.0);
    weights.linears[m] = {dense_linear(w[m], n_out, n_in), A[m].data(), B[m].data(), dA[m].data(), dB[m].data(),
                          LoraDims{n_in, n_out, rank, 2.0, 0.25f}};
  }
  const int64_t positions[6] = {0, 1, 2, 0, 1, 2};
  const BlockBatch batch{2, 3, positions, 1234};
  const int64_t n = 6;
  auto x = testing::random_vector(rng, n * 8);
  const auto r = testing::random_vector(rng, n * 8);
  std::vector<double> out(n * 8);
  BlockActivations<double> acts;
  auto loss = [&] {
    block_forward<double>(out.data(), acts, x.data(), weights, config, batch);
    return testing::weighted_sum(out, r);
  };
  loss();
  std::vector<double> dx(n * 8);
  block_backward<double>(dx.data(), r.data(), x.data(), acts, weights, config, batch);
  EXPECT_LT(testing::max_relative_error(dx, testing::numeric_gradient(x, loss)), kGradCheckTolerance);
  for (int m = 0; m < kNumLinearModules; ++m) {
    EXPECT_LT(testing::max_relative_error(dA[m], testing::numeric_gradient(A[m], loss)), kGradCheckTolerance)
        << linear_module_names(m).path;
    EXPECT_LT(testing::max_relative_error(dB[m], testing::numeric_gradient(B[m], loss)), kGradCheckTolerance)
        << linear_module_names(m).path;
  }
}

TEST(LlamaBlockTest, RecomputedForwardIsIdentical) {
  // Gradient checkpointing relies on a second forward giving the same activations, dropout masks included.
  const float inv_freq[1] = {0.5f};
  BlockConfig config{4, 6, 1, 1, 2, 2, 1e-5, inv_freq};
  Rng rng(5);
  auto random_floats = [&](int64_t size) {
    std::vector<float> v(size);
    for (auto& e : v) e = static_cast<float>(rng.uniform() - 0.5);
    return v;
  };
  std::array<std::vector<float>, kNumLinearModules> w, A, B, dA, dB;
  const std::array<std::pair<int64_t, int64_t>, kNumLinearModules> shapes = {
      {{2, 4}, {2, 4}, {2, 4}, {4, 2}, {6, 4}, {6, 4}, {4, 6}}};
  std::vector<float> norm(4, 1.0f);
  std::vector<std::unique_ptr<WeightMatrix>> frozen;
  BlockWeights<float> weights{norm.data(), norm.data(), {}};
  for (int m = 0; m < kNumLinearModules; ++m) {
    const auto [n_out, n_in] = shapes[m];
    w[m] = random_floats(n_out * n_in);
    A[m] = random_floats(n_in);  // rank 1
    B[m] = random_floats(n_out);
    dA[m].assign(A[m].size(), 0.0f);
    dB[m].assign(B[m].size(), 0.0f);
    frozen.push_back(make_dense_weight(WeightFormat::kF32, w[m].data(), n_out, n_in));
    weights.linears[m] = {frozen_linear(*frozen.back()), A[m].data(), B[m].data(), dA[m].data(), dB[m].data(),
                          LoraDims{n_in, n_out, 1, 1.0, 0.5f}};
  }
  const int64_t positions[3] = {0, 1, 2};
  std::vector<float> x(12);
  for (auto& e : x) e = static_cast<float>(rng.normal());
  std::vector<float> out1(12), out2(12);
  BlockActivations<float> a1, a2;
  block_forward<float>(out1.data(), a1, x.data(), weights, config, {1, 3, positions, 77});
  block_forward<float>(out2.data(), a2, x.data(), weights, config, {1, 3, positions, 77});
  EXPECT_EQ(out1, out2);
  EXPECT_EQ(a1.keep[kDownProj], a2.keep[kDownProj]);
  EXPECT_FALSE(a1.keep[kDownProj].empty());

  // The recompute without an output (out null) fills the same activations bit for bit, the down projection's
  // adapter product and mask included.
  BlockActivations<float> a3;
  block_forward<float>(nullptr, a3, x.data(), weights, config, {1, 3, positions, 77});
  EXPECT_EQ(a3.rstd1, a1.rstd1);
  EXPECT_EQ(a3.rstd2, a1.rstd2);
  EXPECT_EQ(a3.xn1, a1.xn1);
  EXPECT_EQ(a3.h, a1.h);
  EXPECT_EQ(a3.xn2, a1.xn2);
  EXPECT_EQ(a3.q, a1.q);
  EXPECT_EQ(a3.att, a1.att);
  EXPECT_EQ(a3.k, a1.k);
  EXPECT_EQ(a3.v, a1.v);
  EXPECT_EQ(a3.lse, a1.lse);
  EXPECT_EQ(a3.gate, a1.gate);
  EXPECT_EQ(a3.up, a1.up);
  EXPECT_EQ(a3.act, a1.act);
  for (int m = 0; m < kNumLinearModules; ++m) {
    EXPECT_EQ(a3.xa[m], a1.xa[m]) << m;
    EXPECT_EQ(a3.keep[m], a1.keep[m]) << m;
  }
  EXPECT_FALSE(a3.xa[kDownProj].empty());

  // Resumed from the attention outputs of the first forward (selective checkpointing): the same activations again.
  const BlockAttentionOutputs<float> attention{a1.att, a1.lse, a1.h};
  BlockActivations<float> a4;
  block_forward<float>(nullptr, a4, x.data(), weights, config, {1, 3, positions, 77}, &attention);
  EXPECT_EQ(a4.rstd1, a1.rstd1);
  EXPECT_EQ(a4.rstd2, a1.rstd2);
  EXPECT_EQ(a4.xn1, a1.xn1);
  EXPECT_EQ(a4.h, a1.h);
  EXPECT_EQ(a4.xn2, a1.xn2);
  EXPECT_EQ(a4.q, a1.q);
  EXPECT_EQ(a4.att, a1.att);
  EXPECT_EQ(a4.k, a1.k);
  EXPECT_EQ(a4.v, a1.v);
  EXPECT_EQ(a4.lse, a1.lse);
  EXPECT_EQ(a4.gate, a1.gate);
  EXPECT_EQ(a4.up, a1.up);
  EXPECT_EQ(a4.act, a1.act);
  for (int m = 0; m < kNumLinearModules; ++m) {
    EXPECT_EQ(a4.xa[m], a1.xa[m]) << m;
    EXPECT_EQ(a4.keep[m], a1.keep[m]) << m;
  }
  EXPECT_FALSE(a4.xa[kOProj].empty());
}

}  // namespace
}  // namespace pagedllm
