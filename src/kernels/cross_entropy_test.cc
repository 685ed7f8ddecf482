#include "kernels/cross_entropy.h"

#include <gtest/gtest.h>

#include "kernels/finite_difference_test_util.h"
#include "util/error.h"

namespace pagedllm {
namespace {

using testing::kGradCheckTolerance;

TEST(CrossEntropyTest, AveragesOverTargetsOnly) {
  // Uniform logits over 4 tokens: each counted position costs log 4; the ignored one costs nothing.
  const std::vector<float> logits(3 * 4, 0.0f);
  const int32_t targets[3] = {1, kIgnoreTarget, 3};
  std::vector<float> lse(3);
  EXPECT_EQ(count_targets(targets, 3), 2);
  EXPECT_FLOAT_EQ(cross_entropy_forward<float>(lse.data(), logits.data(), targets, 3, 4, 2), std::log(4.0f));
  std::vector<float> dlogits(12, 9.0f);
  cross_entropy_backward<float>(dlogits.data(), logits.data(), lse.data(), targets, 3, 4, 2, 1.0f);
  EXPECT_FLOAT_EQ(dlogits[0], 0.125f);                  // 0.25 / 2
  EXPECT_FLOAT_EQ(dlogits[1], (0.25f - 1.0f) / 2.0f);  // the target
  for (int i = 4; i < 8; ++i) EXPECT_EQ(dlogits[i], 0.0f);
}

TEST(CrossEntropyTest, GradientsMatchFiniteDifferences) {
  const int64_t n_tokens = 5, vocab = 6;
  const int32_t targets[5] = {0, 5, kIgnoreTarget, 2, 2};
  const int64_t num_targets = count_targets(targets, n_tokens);
  Rng rng(6);
  auto logits = testing::random_vector(rng, n_tokens * vocab, 3.0);
  std::vector<double> lse(n_tokens);
  const double dloss = 0.7;
  auto loss = [&] {
    return dloss * cross_entropy_forward<double>(lse.data(), logits.data(), targets, n_tokens, vocab, num_targets);
  };
  loss();
  std::vector<double> dlogits(logits.size());
  cross_entropy_backward<double>(dlogits.data(), logits.data(), lse.data(), targets, n_tokens, vocab, num_targets,
                                 dloss);
  EXPECT_LT(testing::max_relative_error(dlogits, testing::numeric_gradient(logits, loss)), kGradCheckTolerance);
}

TEST(CrossEntropyTest, RejectsTargetOutsideVocabulary) {
  const std::vector<float> logits(4, 0.0f);
  const int32_t targets[1] = {4};
  std::vector<float> lse(1);
  EXPECT_THROW(cross_entropy_forward<float>(lse.data(), logits.data(), targets, 1, 4, 1), Error);
}

}  // namespace
}  // namespace pagedllm
