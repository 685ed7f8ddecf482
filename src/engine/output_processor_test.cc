// The output side alone, fed tokens by hand: stop conditions, deltas and hold-back, n > 1, abort and the metrics.
#include "engine/output_processor.h"

#include <gtest/gtest.h>

namespace pagedllm {
namespace {

class OutputProcessorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    tokenizer_ = Tokenizer::from_path(PAGEDLLM_SOURCE_DIR "/models/stories260K");
    eos_ = *tokenizer_->eos_token_id();
    processor_ = std::make_unique<OutputProcessor>(*tokenizer_, std::vector<int32_t>{eos_}, /*max_model_len=*/64);
  }

  static SamplingParams sampling(int max_tokens, int n = 1, int min_tokens = 0) {
    SamplingParams params;
    params.max_tokens = max_tokens;
    params.n = n;
    params.min_tokens = min_tokens;
    return params;
  }

  std::vector<int32_t> ids(const std::string& text) const { return tokenizer_->encode(text, false); }

  void add(const std::string& id, const SamplingParams& params, OutputKind kind) {
    processor_->add_request(id, "Once", ids("Once"), params, kind,
                            [this](const RequestOutput& out) { outputs_.push_back(out); });
  }

  // Feeds `tokens` to sample `index`, emitting after each; returns the finish reason of the last one.
  std::optional<FinishReason> feed(const std::string& id, const std::vector<int32_t>& tokens, int index = 0) {
    std::optional<FinishReason> reason;
    for (int32_t t : tokens) {
      SampledToken sampled;
      sampled.token_id = t;
      sampled.logprob = -0.5f;
      sampled.rank = 1;
      reason = processor_->process_token(id, index, sampled, false);
      if (index == 0) processor_->emit(id);
    }
    return reason;
  }

  std::unique_ptr<Tokenizer> tokenizer_;
  int32_t eos_ = 0;
  std::unique_ptr<OutputProcessor> processor_;
  std::vector<RequestOutput> outputs_;
};

TEST_F(OutputProcessorTest, AStopStringCutsTheTextAndIsHeldBackWhileItMayStillMatch) {
  SamplingParams params;
  params.max_tokens = 50;
  params.stop = {" the cat"};
  add("a", params, OutputKind::kDelta);
  const std::vector<int32_t> tokens = ids("upon a time the cat sat");
  std::string streamed;
  std::optional<FinishReason> reason;
  for (int32_t t : tokens) {
    reason = feed("a", {t});
    if (reason) break;
  }
  ASSERT_EQ(reason, FinishReason::kStop);
  for (const auto& out : outputs_) {
    for (const auto& c : out.outputs) streamed += c.text;
  }
  EXPECT_EQ(streamed, " upon a time");  // nothing of " the cat" ever went out
  EXPECT_TRUE(outputs_.back().finished);
  EXPECT_EQ(std::get<std::string>(outputs_.back().outputs[0].stop_reason), " the cat");
  EXPECT_FALSE(processor_->has_request("a"));
  EXPECT_EQ(processor_->stats().request_success_total.at("stop"), 1u);
}

TEST_F(OutputProcessorTest, EosEndsOnlyAfterMinTokensAndLengthEndsAtMaxTokens) {
  const SamplingParams params = sampling(/*max_tokens=*/4, /*n=*/1, /*min_tokens=*/2);
  add("b", params, OutputKind::kFinalOnly);
  const int32_t word = ids("cat")[0];
  EXPECT_EQ(feed("b", {eos_}), std::nullopt);  // before min_tokens EOS is text like any token
  EXPECT_EQ(feed("b", {word}), std::nullopt);
  EXPECT_EQ(feed("b", {word}), std::nullopt);
  EXPECT_EQ(feed("b", {word}), FinishReason::kLength);
  ASSERT_EQ(outputs_.size(), 1u);  // kFinalOnly: one output
  EXPECT_EQ(outputs_[0].outputs[0].token_ids.size(), 4u);
  EXPECT_EQ(outputs_[0].outputs[0].finish_reason, FinishReason::kLength);

  add("c", params, OutputKind::kFinalOnly);
  feed("c", {word, word});
  EXPECT_EQ(feed("c", {eos_}), FinishReason::kStop);
  // The text is what the two words add to the prompt's text; EOS adds nothing.
  std::vector<int32_t> all = ids("Once");
  const std::string prompt_text = tokenizer_->decode(all, true);
  all.insert(all.end(), {word, word});
  EXPECT_EQ(outputs_.back().outputs[0].text, tokenizer_->decode(all, true).substr(prompt_text.size()));
  EXPECT_FALSE(outputs_.back().outputs[0].text.empty());
}

TEST_F(OutputProcessorTest, ARequestFinishesOnlyWhenEverySampleHasAndAbortEndsTheRest) {
  add("d", sampling(/*max_tokens=*/8, /*n=*/2), OutputKind::kCumulative);
  const int32_t word = ids("dog")[0];
  EXPECT_EQ(feed("d", {eos_}), FinishReason::kStop);
  // Sample 0 is done but sample 1 is not even started: not finished.
  EXPECT_FALSE(outputs_.back().finished);
  processor_->add_sample("d", 1);
  processor_->mark_all_samples_added("d");
  feed("d", {word}, 1);
  EXPECT_FALSE(processor_->emit("d"));
  EXPECT_EQ(processor_->abort("d"), std::vector<int>{1});
  EXPECT_TRUE(processor_->emit("d"));
  const RequestOutput& last = outputs_.back();
  EXPECT_TRUE(last.finished);
  ASSERT_EQ(last.outputs.size(), 2u);
  EXPECT_EQ(last.outputs[0].finish_reason, FinishReason::kStop);
  EXPECT_EQ(last.outputs[1].finish_reason, FinishReason::kAbort);
  EXPECT_EQ(last.outputs[1].token_ids, std::vector<int32_t>{word});
  EXPECT_EQ(processor_->stats().request_success_total.at("abort"), 1u);
  EXPECT_EQ(processor_->stats().generation_tokens_total, 2u);
  EXPECT_EQ(processor_->stats().e2e_request_latency_seconds.count, 1u);
}

TEST_F(OutputProcessorTest, TheContextLengthEndsASample) {
  SamplingParams params;
  params.max_tokens = 1000;
  params.ignore_eos = true;
  add("e", params, OutputKind::kFinalOnly);
  const int prompt = static_cast<int>(ids("Once").size());
  const int32_t word = ids("sun")[0];
  std::optional<FinishReason> reason;
  int n = 0;
  while (!reason) {
    reason = feed("e", {word});
    ++n;
  }
  EXPECT_EQ(reason, FinishReason::kLength);
  EXPECT_EQ(prompt + n, 64);
}

TEST(FinishReason, NamesAreOpenAIs) {
  EXPECT_STREQ(finish_reason_name(FinishReason::kStop), "stop");
  EXPECT_STREQ(finish_reason_name(FinishReason::kLength), "length");
  EXPECT_STREQ(finish_reason_name(FinishReason::kAbort), "abort");
}

}  // namespace
}  // namespace pagedllm
