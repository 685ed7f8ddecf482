// Structured outputs in the engine on stories260K: n > 1, prefix caching, stop strings, logprobs, preemption
// under a small KV cache, a compile error surfacing from add_request, and constraints compiled by the caller.
#include <gtest/gtest.h>

#include <future>
#include <regex>

#include "engine/async_engine.h"
#include "engine/llm.h"
#include "golden_data.h"
#include "util/error.h"

namespace pagedllm {
namespace {

EngineArgs small_cache_args(int num_kv_blocks) {
  EngineArgs a;
  a.model = testing::kStoriesDir;
  a.num_kv_blocks = num_kv_blocks;
  a.block_size = 4;
  a.max_model_len = 96;
  return a;
}

SamplingParams regex_params(const std::string& regex, int n) {
  SamplingParams p;
  p.temperature = 1.0f;
  p.seed = 7;
  p.n = n;
  p.max_tokens = 60;
  p.structured_outputs = StructuredOutputsParams{};
  p.structured_outputs->regex = regex;
  return p;
}

TEST(StructuredEngine, EverySampleMatchesAndFinishesWithStop) {
  LLM llm(small_cache_args(512));
  const std::string regex = "(cat|dog)s? (ran|sat) [a-z]{2,5}\\.";
  SamplingParams p = regex_params(regex, 6);
  p.logprobs = 2;
  std::vector<RequestOutput> outs = llm.generate({"Once upon a time", "Once upon a time"}, p);
  for (const auto& out : outs) {
    ASSERT_EQ(out.outputs.size(), 6u);
    for (const auto& c : out.outputs) {
      EXPECT_TRUE(std::regex_match(c.text, std::regex(regex))) << c.text;
      EXPECT_EQ(c.finish_reason, FinishReason::kStop);
      ASSERT_TRUE(c.logprobs.has_value());
      EXPECT_EQ(c.logprobs->size(), c.token_ids.size());
    }
  }
  // The same seed gives the same samples whether the prompt came from the prefix cache or not.
  EXPECT_EQ(outs[0].outputs[3].text, outs[1].outputs[3].text);
}

TEST(StructuredEngine, PreemptedRequestsKeepTheirConstraintState) {
  // 24 blocks of 4 tokens cannot hold 8 requests of ~70 tokens at once: the scheduler preempts and recomputes.
  LLM llm(small_cache_args(24));
  SamplingParams p = regex_params("[a-z]{10,40}", 1);
  std::vector<std::string> prompts(8, "Lily and Tom");
  std::vector<RequestOutput> outs = llm.generate(prompts, p);
  EXPECT_GT(llm.engine().stats().num_preemptions_total, 0);
  for (const auto& out : outs) EXPECT_TRUE(std::regex_match(out.outputs[0].text, std::regex("[a-z]{10,40}"))) << out.outputs[0].text;
}

TEST(StructuredEngine, AStopStringCutsTheConstrainedText) {
  LLM llm(small_cache_args(512));
  SamplingParams p = regex_params("abc(d|e)fgh", 1);
  p.stop = {"fg"};
  std::vector<RequestOutput> outs = llm.generate({"Once"}, p);
  const std::string text = outs[0].outputs[0].text;
  EXPECT_TRUE(text == "abcd" || text == "abce") << text;
  EXPECT_EQ(outs[0].outputs[0].finish_reason, FinishReason::kStop);
}

TEST(StructuredEngine, AnUnsupportedSchemaIsRefusedAtAddRequest) {
  LLM llm(small_cache_args(64));
  SamplingParams p;
  p.structured_outputs = StructuredOutputsParams{};
  p.structured_outputs->json = R"({"type":"object","minProperties":2})";
  try {
    llm.generate({"Once"}, p);
    ADD_FAILURE() << "accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kUnsupported);
    EXPECT_NE(std::string(e.what()).find("minProperties"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(llm.engine().has_unfinished_requests());
}

TEST(StructuredEngine, ACompiledConstraintFromTheCallerIsUsedAsIs) {
  LLM llm(small_cache_args(512));
  SamplingParams p = regex_params("xyz", 1);
  // Compiled from another regex: the engine must use the handed-over automaton, not compile the fields again.
  p.structured_outputs->compiled = llm.engine().structured_outputs().compile(regex_params("abc", 1).structured_outputs.value());
  EXPECT_EQ(llm.generate({"Once"}, p)[0].outputs[0].text, "abc");
}

TEST(StructuredEngine, AsyncEngineRefusesAnUnsupportedSchemaOnTheCallersThreadAndKeepsServing) {
  AsyncEngine engine(small_cache_args(512));
  SamplingParams bad;
  bad.structured_outputs = StructuredOutputsParams{};
  bad.structured_outputs->json = R"({"type":"object","minProperties":2})";
  try {
    engine.add_request("bad", PromptInput{"Once", {}, true}, bad, OutputKind::kFinalOnly, "", [](const RequestOutput&) {});
    ADD_FAILURE() << "accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kUnsupported);
    EXPECT_NE(std::string(e.what()).find("minProperties"), std::string::npos) << e.what();
  }
  std::promise<std::string> text;
  engine.add_request("good", PromptInput{"Once", {}, true}, regex_params("(cat|dog)s", 1), OutputKind::kFinalOnly, "",
                     [&text](const RequestOutput& out) {
                       if (out.finished) text.set_value(out.outputs[0].text);
                     });
  const std::string answer = text.get_future().get();
  EXPECT_TRUE(answer == "cats" || answer == "dogs") << answer;
}

}  // namespace
}  // namespace pagedllm
