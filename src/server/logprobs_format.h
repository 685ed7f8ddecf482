// Logprobs of generated tokens in the two OpenAI shapes. Each generated token has one map (SampleLogprobs entry)
// holding the sampled token and the top-k alternatives, each with its rank (1 = most likely) and text.
// Logprobs of -inf (impossible tokens) are written as -9999.0, as vLLM does, since JSON has no infinity.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/outputs.h"

namespace pagedllm {

// Completions (legacy) shape: {"tokens", "token_logprobs", "top_logprobs", "text_offset"} for the tokens
// token_ids[i] with logprobs[i]. top_logprobs[i] maps token text → logprob for the `num_top` best tokens plus the
// sampled one. text_offset[i] is where token i starts in the choice's text, in characters; `text_offset` holds the
// offset of the first token on entry and the offset after the last on return (streaming continues from it).
nlohmann::json completion_logprobs(const std::vector<int32_t>& token_ids, const SampleLogprobs& logprobs,
                                   int num_top, size_t& text_offset);

// Appends two legacy logprobs objects (the tokens of consecutive deltas).
void append_completion_logprobs(nlohmann::json& into, const nlohmann::json& more);

// Chat shape, the array under "content": [{"token", "logprob", "bytes", "top_logprobs": [{"token", "logprob",
// "bytes"}] (the `num_top` best, by rank)}].
nlohmann::json chat_logprobs_content(const std::vector<int32_t>& token_ids, const SampleLogprobs& logprobs,
                                     int num_top);

// Number of Unicode code points in UTF-8 text (what OpenAI's text offsets count).
size_t utf8_length(const std::string& text);

}  // namespace pagedllm
