#include "sampling/sampling_params.h"

#include <cmath>

#include "util/error.h"

namespace pagedllm {

void SamplingParams::validate() const {
  auto fail = [](const char* field, const std::string& why) { throw_error(ErrorKind::kInvalidArgument, "{} {}", field, why); };
  if (n < 1 || n > 128) fail("n", fmt::format("must be in [1, 128], got {}", n));
  if (!std::isfinite(presence_penalty) || presence_penalty < -2 || presence_penalty > 2) fail("presence_penalty", fmt::format("must be in [-2, 2], got {}", presence_penalty));
  if (!std::isfinite(frequency_penalty) || frequency_penalty < -2 || frequency_penalty > 2) fail("frequency_penalty", fmt::format("must be in [-2, 2], got {}", frequency_penalty));
  if (!std::isfinite(repetition_penalty) || repetition_penalty <= 0) fail("repetition_penalty", fmt::format("must be greater than zero, got {}", repetition_penalty));
  if (!std::isfinite(temperature) || temperature < 0) fail("temperature", fmt::format("must be non-negative, got {}", temperature));
  if (!std::isfinite(top_p) || top_p <= 0 || top_p > 1) fail("top_p", fmt::format("must be in (0, 1], got {}", top_p));
  if (top_k < -1) fail("top_k", fmt::format("must be -1 (disable), 0 (disable) or at least 1, got {}", top_k));
  if (!std::isfinite(min_p) || min_p < 0 || min_p > 1) fail("min_p", fmt::format("must be in [0, 1], got {}", min_p));
  if (max_tokens < 1) fail("max_tokens", fmt::format("must be at least 1, got {}", max_tokens));
  if (min_tokens < 0) fail("min_tokens", fmt::format("must be greater than or equal to 0, got {}", min_tokens));
  if (min_tokens > max_tokens) fail("min_tokens", fmt::format("must be less than or equal to max_tokens={}, got {}", max_tokens, min_tokens));
  if (logprobs && (*logprobs < 0 || *logprobs > 20)) fail("logprobs", fmt::format("must be in [0, 20], got {}", *logprobs));
  if (prompt_logprobs && (*prompt_logprobs < 0 || *prompt_logprobs > 20)) fail("prompt_logprobs", fmt::format("must be in [0, 20], got {}", *prompt_logprobs));
  for (const auto& s : stop) {
    if (s.empty()) fail("stop", "cannot contain an empty string");
  }
  for (const auto& [token, bias] : logit_bias) {
    if (!std::isfinite(bias) || bias < -100 || bias > 100) fail("logit_bias", fmt::format("values must be in [-100, 100], got {} for token {}", bias, token));
  }
  if (structured_outputs && structured_outputs->num_kinds() != 1) {
    fail("structured_outputs", fmt::format("must set exactly one of json, json_object, regex, choice and grammar, got {}", structured_outputs->num_kinds()));
  }
}

}  // namespace pagedllm
