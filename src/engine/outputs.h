// What a request produces, shaped like vLLM's RequestOutput / CompletionOutput.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "engine/finish_reason.h"

namespace pagedllm {

struct Logprob {
  float logprob = 0.0f;
  int rank = 0;                 // 1 = most likely
  std::string decoded_token;    // the token's text alone
};

// One map per generated token: the sampled token and the top-`logprobs` alternatives.
using SampleLogprobs = std::vector<std::map<int32_t, Logprob>>;

struct CompletionOutput {
  int index = 0;
  std::string text;
  std::vector<int32_t> token_ids;
  double cumulative_logprob = 0.0;
  std::optional<SampleLogprobs> logprobs;
  std::optional<FinishReason> finish_reason;             // empty while running
  std::variant<std::monostate, std::string, int32_t> stop_reason;  // the stop string or stop token that ended it
};

struct RequestOutput {
  std::string request_id;
  std::string prompt;
  std::vector<int32_t> prompt_token_ids;
  std::vector<CompletionOutput> outputs;
  bool finished = false;
};

// How much each streamed RequestOutput carries (vLLM's RequestOutputKind).
enum class OutputKind {
  kCumulative,  // everything so far
  kDelta,       // only what is new since the previous output (text, token_ids, logprobs)
  kFinalOnly,   // one output when the request finishes
};

}  // namespace pagedllm
