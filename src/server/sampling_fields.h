// Reading the request fields that become SamplingParams, shared by /v1/completions and /v1/chat/completions:
// OpenAI's (temperature, top_p, n, stop, seed, presence/frequency_penalty, logit_bias) and vLLM's extras (top_k,
// min_p, repetition_penalty, min_tokens, ignore_eos, stop_token_ids, skip_special_tokens,
// spaces_between_special_tokens, include_stop_str_in_output). Ranges are vLLM's; errors name the field.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "sampling/sampling_params.h"

namespace pagedllm {

// The largest `n` and `logprobs` a request may ask for (vLLM's default --max-logprobs is 20).
inline constexpr int kMaxN = 128;
inline constexpr int kMaxLogprobs = 20;

// Everything but max_tokens and logprobs, whose field names and defaults differ between the two routes.
// `ordered_body` is the same request in the client's key order (parse_ordered_json_body), for JSON Schemas.
SamplingParams parse_sampling_fields(const nlohmann::json& body, const nlohmann::ordered_json& ordered_body, int vocab_size);

// max_tokens resolved by the route; checks min_tokens <= max_tokens.
void set_max_tokens(SamplingParams& params, int max_tokens);

// 400 "... is not supported yet" for fields that would change the output and that pagedllm does not implement
// (response_format json_object/json_schema, tools, structured outputs, beam search, ...): never silently ignored.
void reject_unsupported_fields(const nlohmann::json& body);

}  // namespace pagedllm
