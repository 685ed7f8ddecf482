// SamplingParams: how one request's tokens are chosen and when it stops. Names, defaults and meaning follow
// vLLM's SamplingParams so that a vLLM user finds the same knobs.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "sampling/structured_outputs_params.h"

namespace pagedllm {

struct SamplingParams {
  int n = 1;                        // independent samples of the same prompt (they share the prompt's KV blocks)
  float presence_penalty = 0.0f;    // subtracted once from every token already generated
  float frequency_penalty = 0.0f;   // subtracted per occurrence in the generated tokens
  float repetition_penalty = 1.0f;  // >1 discourages tokens of the prompt and the output (CTRL-style divide/multiply)
  float temperature = 1.0f;         // 0 means greedy
  float top_p = 1.0f;               // in (0, 1]
  int top_k = 0;                    // 0 or -1: all tokens
  float min_p = 0.0f;               // in [0, 1]
  std::optional<uint64_t> seed;     // per request; samples depend only on the seed and the request's own tokens
  std::vector<std::string> stop;    // stop strings, excluded from the text unless include_stop_str_in_output
  std::vector<int32_t> stop_token_ids;
  bool ignore_eos = false;
  int max_tokens = 16;
  int min_tokens = 0;               // stop tokens, EOS and stop strings are suppressed until this many tokens
  std::optional<int> logprobs;      // number of top logprobs per generated token (plus the sampled one)
  std::optional<int> prompt_logprobs;
  bool skip_special_tokens = true;
  bool spaces_between_special_tokens = true;
  bool include_stop_str_in_output = false;
  std::map<int32_t, float> logit_bias;  // added to the logits before any other processing
  std::optional<StructuredOutputsParams> structured_outputs;  // constrained decoding (guided_json, response_format, ...)

  // Throws Error(kInvalidArgument) naming the first field out of range.
  void validate() const;
  bool is_greedy() const { return temperature < 1e-5f; }
};

}  // namespace pagedllm
