// End-to-end tests of the engine on the real stories260K model: goldens, batch invariance, preemption, parallel
// sampling and block accounting.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "engine/llm.h"
#include "golden_data.h"
#include "util/error.h"

namespace pagedllm {
namespace {

using testing::Golden;
using testing::kStoriesDir;
using testing::load_golden;

EngineArgs stories_args() {
  EngineArgs a;
  a.model = kStoriesDir;
  a.num_kv_blocks = 512;
  return a;
}

SamplingParams greedy(int max_tokens) {
  SamplingParams p;
  p.temperature = 0.0f;
  p.max_tokens = max_tokens;
  return p;
}

void expect_all_blocks_free(LLM& llm) {
  llm.engine().reset_prefix_cache();
  EXPECT_EQ(llm.engine().num_free_kv_blocks(), llm.engine().num_kv_blocks());
  EXPECT_FALSE(llm.engine().has_unfinished_requests());
}

// The reference is llama2.c run.c in float32; our sums run in another order, so logits differ by ~1e-5
// (golden/README.md measured 3.6e-5 for an independent float32 implementation). Log-probabilities inherit that.
constexpr double kLogprobTolerance = 1e-4;

TEST(Engine, GreedyReproducesGoldensWithLogprobs) {
  LLM llm(stories_args());
  std::vector<Golden> goldens;
  std::vector<std::string> prompts;
  for (const auto& name : testing::golden_names()) {
    goldens.push_back(load_golden(name));
    prompts.push_back(goldens.back().prompt);
  }
  SamplingParams p = greedy(128);
  p.logprobs = 5;
  std::vector<RequestOutput> outs = llm.generate(prompts, p);
  ASSERT_EQ(outs.size(), goldens.size());
  for (size_t i = 0; i < goldens.size(); ++i) {
    const Golden& g = goldens[i];
    SCOPED_TRACE(g.name);
    EXPECT_EQ(outs[i].prompt_token_ids, g.prompt_token_ids);
    ASSERT_EQ(outs[i].outputs.size(), 1u);
    const CompletionOutput& c = outs[i].outputs[0];
    EXPECT_EQ(c.token_ids, g.greedy_token_ids);
    EXPECT_EQ(c.finish_reason, FinishReason::kLength);
    ASSERT_TRUE(c.logprobs);
    ASSERT_EQ(c.logprobs->size(), c.token_ids.size());
    for (size_t t = 0; t < c.token_ids.size(); ++t) {
      std::vector<double> ref = g.log_probs(static_cast<int>(g.prompt_token_ids.size() + t - 1));
      for (const auto& [id, lp] : (*c.logprobs)[t]) ASSERT_NEAR(lp.logprob, ref[id], kLogprobTolerance) << "token " << t << " id " << id;
      ASSERT_EQ((*c.logprobs)[t].size(), 5u);  // the sampled token is the top-1 under greedy
    }
  }
  expect_all_blocks_free(llm);
}

// Prompts of varied lengths cut from the long golden story.
std::vector<std::vector<int32_t>> varied_prompts(int count) {
  Golden g = load_golden("long_200");
  std::vector<int32_t> all = g.prompt_token_ids;
  all.insert(all.end(), g.greedy_token_ids.begin(), g.greedy_token_ids.end());
  std::vector<std::vector<int32_t>> prompts;
  for (int i = 0; i < count; ++i) {
    int len = 1 + (i * 37) % 180;
    int start = (i * 13) % 100;
    std::vector<int32_t> p = {1};
    p.insert(p.end(), all.begin() + start + 1, all.begin() + start + 1 + len);
    prompts.push_back(p);
  }
  return prompts;
}

std::vector<std::vector<int32_t>> generate_ids(LLM& llm, const std::vector<std::vector<int32_t>>& prompts, const SamplingParams& p) {
  std::vector<PromptInput> inputs;
  for (const auto& ids : prompts) inputs.push_back(PromptInput{"", ids, true});
  std::vector<RequestOutput> outs = llm.generate(inputs, std::vector<SamplingParams>(prompts.size(), p));
  std::vector<std::vector<int32_t>> ids;
  for (const auto& o : outs) ids.push_back(o.outputs.at(0).token_ids);
  return ids;
}

TEST(Engine, BatchedGreedyEqualsEachPromptAlone) {
  const auto prompts = varied_prompts(64);
  const SamplingParams p = greedy(24);
  std::vector<std::vector<int32_t>> alone;
  {
    LLM llm(stories_args());
    for (const auto& prompt : prompts) alone.push_back(generate_ids(llm, {prompt}, p)[0]);
    expect_all_blocks_free(llm);
  }
  for (int max_num_seqs : {64, 4}) {
    for (int budget : {2048, 16}) {
      SCOPED_TRACE(::testing::Message() << "max_num_seqs=" << max_num_seqs << " max_num_batched_tokens=" << budget);
      EngineArgs args = stories_args();
      args.max_num_seqs = max_num_seqs;
      args.max_num_batched_tokens = budget;
      LLM llm(args);
      EXPECT_EQ(generate_ids(llm, prompts, p), alone);
      expect_all_blocks_free(llm);
    }
  }
}

TEST(Engine, PreemptionKeepsOutputsIdentical) {
  const auto prompts = varied_prompts(24);
  const SamplingParams p = greedy(48);
  LLM big(stories_args());
  auto expected = generate_ids(big, prompts, p);
  EngineArgs small_args = stories_args();
  small_args.num_kv_blocks = 16;  // 256 tokens: room for one or two of these requests at a time
  small_args.max_model_len = 256;
  LLM small(small_args);
  EXPECT_EQ(generate_ids(small, prompts, p), expected);
  EXPECT_GT(small.engine().stats().num_preemptions_total, 0u);
  expect_all_blocks_free(small);
}

TEST(Engine, SeededParallelSamplesRepeat) {
  SamplingParams p;
  p.n = 8;
  p.seed = 7;
  p.temperature = 1.0f;
  p.max_tokens = 20;
  auto run = [&] {
    LLM llm(stories_args());
    auto outs = llm.generate({"Once upon a time"}, p);
    expect_all_blocks_free(llm);
    return outs.at(0);
  };
  RequestOutput a = run(), b = run();
  ASSERT_EQ(a.outputs.size(), 8u);
  std::set<std::vector<int32_t>> distinct;
  for (int i = 0; i < 8; ++i) {
    EXPECT_EQ(a.outputs[i].index, i);
    EXPECT_EQ(a.outputs[i].token_ids, b.outputs[i].token_ids);
    EXPECT_EQ(a.outputs[i].text, b.outputs[i].text);
    distinct.insert(a.outputs[i].token_ids);
  }
  EXPECT_GT(distinct.size(), 1u);
}

TEST(Engine, SeededSamplesDoNotDependOnTheBatch) {
  SamplingParams p;
  p.seed = 123;
  p.temperature = 0.8f;
  p.max_tokens = 16;
  LLM llm(stories_args());
  auto alone = llm.generate({"The little dog"}, p).at(0).outputs.at(0).token_ids;
  SamplingParams other = p;
  other.seed = 5;
  auto batch = llm.generate({PromptInput{"Lily and Tom", {}, true}, PromptInput{"The little dog", {}, true}}, {other, p});
  EXPECT_EQ(batch.at(1).outputs.at(0).token_ids, alone);
}

// A prompt of 13 full blocks sampled 8 ways: the samples share the prompt's blocks and each needs one block of
// its own, so the peak is 13 + 8 = 21 blocks, against 14 for one sample and 8 × 14 = 112 with per-sample copies.
TEST(Engine, ParallelSamplesShareThePromptBlocks) {
  Golden g = load_golden("long_200");
  std::vector<int32_t> prompt(g.prompt_token_ids.begin(), g.prompt_token_ids.end());
  prompt.insert(prompt.end(), g.greedy_token_ids.begin(), g.greedy_token_ids.begin() + (208 - 203));
  ASSERT_EQ(prompt.size(), 208u);
  auto peak = [&](int n) {
    LLM llm(stories_args());
    SamplingParams p;
    p.n = n;
    p.seed = 1;
    p.max_tokens = 16;
    p.ignore_eos = true;
    llm.generate({PromptInput{"", prompt, true}}, {p});
    expect_all_blocks_free(llm);
    return llm.engine().peak_kv_blocks_used();
  };
  const int one = peak(1), eight = peak(8);
  EXPECT_EQ(one, 14);
  EXPECT_EQ(eight, 21);
  EXPECT_LE(eight, one * 3 / 2);
}

TEST(Engine, StopStringsCutTheText) {
  LLM llm(stories_args());
  auto full = llm.generate({"Once upon a time"}, greedy(40)).at(0).outputs.at(0);
  ASSERT_NE(full.text.find("Lily"), std::string::npos) << full.text;
  SamplingParams p = greedy(40);
  p.stop = {"Lily"};
  auto cut = llm.generate({"Once upon a time"}, p).at(0).outputs.at(0);
  EXPECT_EQ(cut.text, full.text.substr(0, full.text.find("Lily")));
  EXPECT_EQ(cut.finish_reason, FinishReason::kStop);
  EXPECT_EQ(std::get<std::string>(cut.stop_reason), "Lily");
  p.include_stop_str_in_output = true;
  auto kept = llm.generate({"Once upon a time"}, p).at(0).outputs.at(0);
  EXPECT_EQ(kept.text, full.text.substr(0, full.text.find("Lily") + 4));
  expect_all_blocks_free(llm);
}

TEST(Engine, StopTokenIdsAndMinTokens) {
  LLM llm(stories_args());
  auto full = llm.generate({"Once upon a time"}, greedy(20)).at(0).outputs.at(0);
  SamplingParams p = greedy(20);
  p.stop_token_ids = {full.token_ids[3]};
  auto stopped = llm.generate({"Once upon a time"}, p).at(0).outputs.at(0);
  const auto first = std::find(full.token_ids.begin(), full.token_ids.end(), full.token_ids[3]) - full.token_ids.begin();
  EXPECT_EQ(stopped.token_ids.size(), size_t(first + 1));
  EXPECT_EQ(std::get<int32_t>(stopped.stop_reason), full.token_ids[3]);
  p.min_tokens = 10;  // the stop token is suppressed until 10 tokens exist
  p.max_tokens = 30;
  auto longer = llm.generate({"Once upon a time"}, p).at(0).outputs.at(0);
  // Suppressed, the stop token comes back as the 26th token (measured) and ends the output there; a run that
  // ignored it would go on to 30 tokens and finish with "length".
  ASSERT_EQ(longer.token_ids.size(), 26u);
  EXPECT_EQ(longer.finish_reason, FinishReason::kStop);
  EXPECT_EQ(std::get<int32_t>(longer.stop_reason), full.token_ids[3]);
  EXPECT_EQ(longer.token_ids.back(), full.token_ids[3]);
  EXPECT_EQ(std::count(longer.token_ids.begin(), longer.token_ids.begin() + 10, full.token_ids[3]), 0);
}

TEST(Engine, PrefixCachingReusesBlocksWithoutChangingOutputs) {
  testing::Golden g = load_golden("long_200");
  EngineArgs args = stories_args();
  args.enable_prefix_caching = true;
  LLM llm(args);
  const std::vector<int32_t> first = llm.generate({g.prompt}, greedy(16)).at(0).outputs.at(0).token_ids;
  const std::vector<int32_t> again = llm.generate({g.prompt}, greedy(16)).at(0).outputs.at(0).token_ids;
  EXPECT_EQ(first, again);
  EXPECT_EQ(first, std::vector<int32_t>(g.greedy_token_ids.begin(), g.greedy_token_ids.begin() + 16));
  const EngineStats stats = llm.engine().stats();
  EXPECT_EQ(stats.prefix_cache_queries_total, 2u * 203);
  EXPECT_EQ(stats.prefix_cache_hits_total, 192u);  // the second request finds the prompt's 12 full blocks
  expect_all_blocks_free(llm);
}

TEST(Engine, RejectsPromptsBeyondMaxModelLen) {
  EngineArgs args = stories_args();
  args.max_model_len = 64;
  LLM llm(args);
  SamplingParams p = greedy(60);
  try {
    llm.generate({"Once upon a time there was a dog"}, p);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("maximum context length is 64 tokens"), std::string::npos) << e.what();
  }
  expect_all_blocks_free(llm);
}

TEST(Engine, StartupFailsWhenOneRequestCannotFit) {
  EngineArgs args = stories_args();
  args.num_kv_blocks = 4;  // 64 tokens
  args.max_model_len = 512;
  try {
    LLM llm(args);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("largest max-model-len that fits is 64"), std::string::npos) << e.what();
  }
}

TEST(Engine, DummyWeightsLoadForTinyLlamaConfig) {
  EngineArgs args;
  args.model = PAGEDLLM_SOURCE_DIR "/models/tinyllama-1.1b-dummy";
  args.load_format = "dummy";
  args.max_model_len = 64;
  args.num_kv_blocks = 8;
  LLM llm(args);
  EXPECT_EQ(llm.engine().model().config().num_hidden_layers, 22);
  auto out = llm.generate({"Hello"}, greedy(2)).at(0);
  EXPECT_EQ(out.outputs.at(0).token_ids.size(), 2u);
  expect_all_blocks_free(llm);
}

}  // namespace
}  // namespace pagedllm
