// Pieces of the response bodies that /v1/completions and /v1/chat/completions share.
#pragma once

#include <cstdint>
#include <ctime>
#include <string>

#include <nlohmann/json.hpp>

#include "engine/outputs.h"

namespace httplib {
struct Response;
}

namespace pagedllm {

// {"prompt_tokens", "completion_tokens", "total_tokens"}
nlohmann::json usage_json(int64_t num_prompt_tokens, int64_t num_completion_tokens);

// vLLM's `stop_reason`: the stop string or stop token id that ended the choice; null for EOS, length, running.
nlohmann::json stop_reason_json(const CompletionOutput& output);

// null while running, else "stop" / "length" / "abort".
nlohmann::json finish_reason_json(const CompletionOutput& output);

// 200 with a JSON body.
void set_json_response(httplib::Response& response, const nlohmann::json& body);

// Seconds since the epoch, the `created` field.
inline int64_t unix_time_now() { return static_cast<int64_t>(std::time(nullptr)); }

}  // namespace pagedllm
