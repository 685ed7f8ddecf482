// Chooses the next token of one sequence from its logits, with vLLM's order of operations:
//   logit_bias → the structured-output token mask → min_tokens suppression of stop/EOS tokens → repetition/frequency/presence penalties →
//   greedy argmax, or temperature → min_p → top_k → top_p → a draw from the sequence's own Rng.
// Logprobs are those of the raw model output (vLLM's default "raw_logprobs"): log_softmax of the logits before
// any processing, so they do not depend on the sampling parameters.
#pragma once

#include <cstdint>
#include <span>
#include <utility>
#include <vector>

#include "sampling/sampling_params.h"
#include "util/rng.h"

namespace pagedllm {

struct SampledToken {
  int32_t token_id = 0;
  float logprob = 0.0f;                                // raw logprob of the chosen token
  int rank = 0;                                        // 1-based rank of the chosen token by raw logprob
  std::vector<std::pair<int32_t, float>> top_logprobs;  // the `num_logprobs` most likely (raw), best first
};

struct SamplingContext {
  const SamplingParams* params = nullptr;
  std::span<const int32_t> prompt_token_ids;
  std::span<const int32_t> output_token_ids;
  std::span<const int32_t> suppressed_token_ids;  // stop tokens and EOS while output < min_tokens
  Rng* rng = nullptr;                             // the sequence's own generator (unused when greedy)
  // Structured outputs: bit t of word t/64 set means token t may be sampled (nullptr: every token may).
  const uint64_t* allowed_token_mask = nullptr;
};

// logits: (vocab) raw values; modified in place as scratch.
SampledToken sample_token(float* logits, int64_t vocab_size, const SamplingContext& context);

}  // namespace pagedllm
