#include "kernels/causal_attention.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels/finite_difference_test_util.h"

namespace pagedllm {
namespace {

using testing::kGradCheckTolerance;

TEST(CausalAttentionTest, FirstTokenAttendsOnlyToItself) {
  const AttentionShape shape{1, 2, 1, 1, 2};
  const std::vector<float> q = {1, 0, 0, 1}, k = {1, 0, 1, 1}, v = {2, 3, 4, 5};
  std::vector<float> out(4), lse(2);
  causal_attention_forward<float>(out.data(), lse.data(), q.data(), k.data(), v.data(), shape);
  EXPECT_FLOAT_EQ(out[0], 2.0f);
  EXPECT_FLOAT_EQ(out[1], 3.0f);
  // Token 1: scores q1·k0/√2 = 0 and q1·k1/√2 = 1/√2.
  const float p1 = 1.0f / (1.0f + std::exp(-1.0f / std::sqrt(2.0f)));
  EXPECT_NEAR(out[2], (1 - p1) * 2 + p1 * 4, 1e-6f);  // float rounding of exp and a 2-term sum
  EXPECT_NEAR(lse[0], 1.0f / std::sqrt(2.0f), 1e-6f);
}

TEST(CausalAttentionTest, GradientsMatchFiniteDifferencesWithGroupedQueryHeads) {
  const AttentionShape shape{2, 4, 4, 2, 3};  // 2 sequences of 4 tokens, 4 query heads sharing 2 kv heads
  const int64_t n_tokens = shape.n_seqs * shape.seq_len;
  Rng rng(4);
  auto q = testing::random_vector(rng, n_tokens * shape.n_heads * shape.head_dim, 2.0);
  auto k = testing::random_vector(rng, n_tokens * shape.n_kv_heads * shape.head_dim, 2.0);
  auto v = testing::random_vector(rng, k.size());
  const auto r = testing::random_vector(rng, q.size());
  std::vector<double> out(q.size()), lse(n_tokens * shape.n_heads);
  auto loss = [&] {
    causal_attention_forward<double>(out.data(), lse.data(), q.data(), k.data(), v.data(), shape);
    return testing::weighted_sum(out, r);
  };
  loss();
  std::vector<double> dq(q.size()), dk(k.size(), 7.0), dv(v.size(), 7.0);  // 7: dk, dv are assigned, not added
  causal_attention_backward<double>(dq.data(), dk.data(), dv.data(), r.data(), q.data(), k.data(), v.data(),
                                    out.data(), lse.data(), shape);
  EXPECT_LT(testing::max_relative_error(dq, testing::numeric_gradient(q, loss)), kGradCheckTolerance);
  EXPECT_LT(testing::max_relative_error(dk, testing::numeric_gradient(k, loss)), kGradCheckTolerance);
  EXPECT_LT(testing::max_relative_error(dv, testing::numeric_gradient(v, loss)), kGradCheckTolerance);
}

TEST(CausalAttentionTest, LaterTokensDoNotChangeEarlierOutputs) {
  const AttentionShape shape{1, 3, 1, 1, 2};
  Rng rng(5);
  std::vector<float> q(6), k(6), v(6);
  for (auto* t : {&q, &k, &v})
    for (auto& x : *t) x = static_cast<float>(rng.uniform());
  std::vector<float> out1(6), out2(6), lse(3);
  causal_attention_forward<float>(out1.data(), lse.data(), q.data(), k.data(), v.data(), shape);
  k[4] = 100.0f;
  v[5] = -100.0f;
  causal_attention_forward<float>(out2.data(), lse.data(), q.data(), k.data(), v.data(), shape);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(out1[i], out2[i]) << i;
}

// The float passes (vectorized softmax rows) against the double ones, over 150 tokens (two blocks of query rows):
// outputs, lse and every gradient agree to float rounding (1e-4 of the largest magnitude of each).
TEST(CausalAttentionTest, FloatPassesMatchDoublePasses) {
  const AttentionShape shape{1, 150, 4, 2, 8};
  const int64_t n_q = shape.seq_len * shape.n_heads * shape.head_dim;
  const int64_t n_kv = shape.seq_len * shape.n_kv_heads * shape.head_dim;
  Rng rng(6);
  const auto q = testing::random_vector(rng, n_q, 2.0), k = testing::random_vector(rng, n_kv, 2.0);
  const auto v = testing::random_vector(rng, n_kv), dout = testing::random_vector(rng, n_q);
  const auto to_float = [](const std::vector<double>& x) { return std::vector<float>(x.begin(), x.end()); };
  const auto qf = to_float(q), kf = to_float(k), vf = to_float(v), doutf = to_float(dout);
  std::vector<double> out(n_q), lse(shape.seq_len * shape.n_heads), dq(n_q), dk(n_kv), dv(n_kv);
  std::vector<float> outf(n_q), lsef(lse.size()), dqf(n_q), dkf(n_kv), dvf(n_kv);
  causal_attention_forward<double>(out.data(), lse.data(), q.data(), k.data(), v.data(), shape);
  causal_attention_backward<double>(dq.data(), dk.data(), dv.data(), dout.data(), q.data(), k.data(), v.data(),
                                    out.data(), lse.data(), shape);
  causal_attention_forward<float>(outf.data(), lsef.data(), qf.data(), kf.data(), vf.data(), shape);
  causal_attention_backward<float>(dqf.data(), dkf.data(), dvf.data(), doutf.data(), qf.data(), kf.data(), vf.data(),
                                   outf.data(), lsef.data(), shape);
  const auto expect_close = [](const std::vector<double>& ref, const std::vector<float>& x, const char* what) {
    double scale = 0;
    for (double r : ref) scale = std::max(scale, std::fabs(r));
    for (size_t i = 0; i < ref.size(); ++i) ASSERT_NEAR(x[i], ref[i], 1e-4 * scale) << what << " " << i;
  };
  expect_close(out, outf, "out");
  expect_close(lse, lsef, "lse");
  expect_close(dq, dqf, "dq");
  expect_close(dk, dkf, "dk");
  expect_close(dv, dvf, "dv");
}

}  // namespace
}  // namespace pagedllm
