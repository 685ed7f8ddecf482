#include "sampling/sampler.h"

#include <gtest/gtest.h>

#include <cmath>
#include <map>

#include "util/error.h"

namespace pagedllm {
namespace {

struct Fixture {
  SamplingParams params;
  std::vector<int32_t> prompt, output, suppressed;
  Rng rng{42};

  SampledToken sample(std::vector<float> logits) {
    SamplingContext ctx{&params, prompt, output, suppressed, &rng};
    return sample_token(logits.data(), static_cast<int64_t>(logits.size()), ctx);
  }
};

TEST(Sampler, GreedyTakesArgmax) {
  Fixture f;
  f.params.temperature = 0.0f;
  EXPECT_EQ(f.sample({0.1f, 3.0f, 2.9f, -1.0f}).token_id, 1);
}

TEST(Sampler, LogprobsAreRawLogSoftmaxWithRanks) {
  Fixture f;
  f.params.temperature = 0.0f;
  f.params.logprobs = 2;
  f.params.repetition_penalty = 2.0f;  // must not change the reported logprobs
  f.prompt = {1};
  std::vector<float> logits = {0.0f, std::log(3.0f), std::log(6.0f)};  // softmax = 0.1, 0.3, 0.6
  SampledToken t = f.sample(logits);
  EXPECT_EQ(t.token_id, 2);
  EXPECT_NEAR(t.logprob, std::log(0.6), 1e-6);
  EXPECT_EQ(t.rank, 1);
  ASSERT_EQ(t.top_logprobs.size(), 2u);
  EXPECT_EQ(t.top_logprobs[0].first, 2);
  EXPECT_EQ(t.top_logprobs[1].first, 1);
  EXPECT_NEAR(t.top_logprobs[1].second, std::log(0.3), 1e-6);
}

TEST(Sampler, SeededDrawsRepeatAndFollowTheDistribution) {
  SamplingParams p;
  p.temperature = 1.0f;
  std::vector<float> logits = {0.0f, std::log(3.0f), std::log(6.0f)};
  std::map<int, int> counts;
  Rng a(7), b(7);
  for (int i = 0; i < 6000; ++i) {
    std::vector<float> la = logits, lb = logits;
    SamplingContext ca{&p, {}, {}, {}, &a}, cb{&p, {}, {}, {}, &b};
    int ta = sample_token(la.data(), 3, ca).token_id;
    ASSERT_EQ(ta, sample_token(lb.data(), 3, cb).token_id);
    ++counts[ta];
  }
  // Binomial standard deviation at n=6000 is at most ~39 draws; allow 5 sigma.
  EXPECT_NEAR(counts[0], 600, 200);
  EXPECT_NEAR(counts[1], 1800, 200);
  EXPECT_NEAR(counts[2], 3600, 200);
}

TEST(Sampler, TopKOneIsGreedy) {
  Fixture f;
  f.params.top_k = 1;
  for (int i = 0; i < 50; ++i) EXPECT_EQ(f.sample({1.0f, 1.2f, 0.9f, 1.1f}).token_id, 1);
}

TEST(Sampler, TopPKeepsSmallestNucleus) {
  Fixture f;
  f.params.top_p = 0.55f;  // probabilities 0.6, 0.3, 0.1: only the first is needed to reach 0.55
  for (int i = 0; i < 50; ++i) EXPECT_EQ(f.sample({std::log(6.0f), std::log(3.0f), 0.0f}).token_id, 0);
  f.params.top_p = 0.85f;  // now 0.6 + 0.3 are kept, 0.1 never drawn
  for (int i = 0; i < 200; ++i) EXPECT_NE(f.sample({std::log(6.0f), std::log(3.0f), 0.0f}).token_id, 2);
}

TEST(Sampler, MinPDropsUnlikelyTokens) {
  Fixture f;
  f.params.min_p = 0.2f;  // threshold 0.2 * 0.6 = 0.12 removes the 0.1 token
  for (int i = 0; i < 200; ++i) EXPECT_NE(f.sample({std::log(6.0f), std::log(3.0f), 0.0f}).token_id, 2);
}

TEST(Sampler, RepetitionPenaltyDividesPositiveAndMultipliesNegative) {
  Fixture f;
  f.params.temperature = 0.0f;
  f.params.repetition_penalty = 2.0f;
  f.prompt = {0};
  // token 0: 3.0 → 1.5, below token 1's 2.0
  EXPECT_EQ(f.sample({3.0f, 2.0f}).token_id, 1);
  f.prompt = {1};
  // token 1: -1.0 → -2.0, below token 0's -1.5
  EXPECT_EQ(f.sample({-1.5f, -1.0f}).token_id, 0);
}

TEST(Sampler, FrequencyAndPresencePenaltiesCountOutputTokens) {
  Fixture f;
  f.params.temperature = 0.0f;
  f.params.frequency_penalty = 0.5f;
  f.output = {0, 0};  // token 0: 3.0 - 2*0.5 = 2.0 < 2.5
  EXPECT_EQ(f.sample({3.0f, 2.5f}).token_id, 1);
  f.params.frequency_penalty = 0.0f;
  f.params.presence_penalty = 0.4f;  // token 0: 3.0 - 0.4 = 2.6 > 2.5, once however often it occurred
  EXPECT_EQ(f.sample({3.0f, 2.5f}).token_id, 0);
  f.prompt = {1};  // presence does not look at the prompt
  EXPECT_EQ(f.sample({3.0f, 2.5f}).token_id, 0);
}

TEST(Sampler, LogitBiasAndSuppression) {
  Fixture f;
  f.params.temperature = 0.0f;
  f.params.logit_bias = {{2, 5.0f}};
  EXPECT_EQ(f.sample({1.0f, 2.0f, 0.0f}).token_id, 2);
  f.suppressed = {2};
  EXPECT_EQ(f.sample({1.0f, 2.0f, 0.0f}).token_id, 1);
}

TEST(SamplingParams, ValidationNamesTheField) {
  auto message = [](SamplingParams p) {
    try {
      p.validate();
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  SamplingParams p;
  EXPECT_EQ(message(p), "");
  p.temperature = -1;
  EXPECT_EQ(message(p).rfind("temperature", 0), 0u);
  p = {};
  p.top_p = 0;
  EXPECT_EQ(message(p).rfind("top_p", 0), 0u);
  p = {};
  p.n = 0;
  EXPECT_EQ(message(p).rfind("n ", 0), 0u);
  p = {};
  p.max_tokens = -3;
  EXPECT_EQ(message(p).rfind("max_tokens", 0), 0u);
  p = {};
  p.min_tokens = 20;
  EXPECT_EQ(message(p).rfind("min_tokens", 0), 0u);
  p = {};
  p.stop = {""};
  EXPECT_EQ(message(p).rfind("stop", 0), 0u);
}

TEST(Sampler, AllowedTokenMaskRestrictsGreedyAndDraws) {
  Fixture f;
  // Tokens 2, 3 and 70 (bit 6 of word 1) are allowed; the best raw logit (token 1) is not.
  const std::vector<uint64_t> mask = {(uint64_t(1) << 2) | (uint64_t(1) << 3), uint64_t(1) << (70 - 64)};
  f.params.temperature = 0.0f;
  std::vector<float> logits(80, 0.0f);
  logits[1] = 9.0f;
  logits[3] = 2.0f;
  logits[70] = 1.0f;
  SamplingContext ctx{&f.params, f.prompt, f.output, f.suppressed, &f.rng};
  ctx.allowed_token_mask = mask.data();
  std::vector<float> scratch = logits;
  EXPECT_EQ(sample_token(scratch.data(), 80, ctx).token_id, 3);
  f.params.temperature = 1.0f;
  std::map<int32_t, int> counts;
  for (int i = 0; i < 300; ++i) {
    scratch = logits;
    ++counts[sample_token(scratch.data(), 80, ctx).token_id];
  }
  EXPECT_EQ(counts.size(), 3u);
  EXPECT_EQ(counts.count(2) + counts.count(3) + counts.count(70), 3u);
}

}  // namespace
}  // namespace pagedllm
