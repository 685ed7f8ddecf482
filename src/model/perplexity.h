// Perplexity of a token sequence under the model with a sliding window (as Hugging Face's perplexity guide):
// windows of `context` tokens advance by `stride`; each window scores only the tokens no earlier window scored,
// with the rest of the window as context.
#pragma once

#include <cstdint>
#include <vector>

#include "model/llama_model.h"

namespace pagedllm {

struct PerplexityResult {
  double perplexity = 0.0;
  double mean_nll = 0.0;
  int64_t num_tokens_scored = 0;
};

// Throws Error(kInvalidArgument) when there are fewer than two tokens or context/stride are out of range.
PerplexityResult compute_perplexity(LlamaModel& model, const std::vector<int32_t>& tokens, int context, int stride,
                                    int lora_slot = 0);

}  // namespace pagedllm
