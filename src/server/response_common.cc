#include "server/response_common.h"

#include <httplib.h>

#include "server/request_fields.h"

namespace pagedllm {

nlohmann::json usage_json(int64_t num_prompt_tokens, int64_t num_completion_tokens) {
  return {{"prompt_tokens", num_prompt_tokens},
          {"completion_tokens", num_completion_tokens},
          {"total_tokens", num_prompt_tokens + num_completion_tokens}};
}

nlohmann::json stop_reason_json(const CompletionOutput& output) {
  if (const auto* text = std::get_if<std::string>(&output.stop_reason)) return *text;
  if (const auto* token = std::get_if<int32_t>(&output.stop_reason)) return *token;
  return nullptr;
}

nlohmann::json finish_reason_json(const CompletionOutput& output) {
  if (!output.finish_reason) return nullptr;
  return finish_reason_name(*output.finish_reason);
}

void set_json_response(httplib::Response& response, const nlohmann::json& body) {
  response.status = 200;
  response.set_content(dump_json(body), "application/json");
}

}  // namespace pagedllm
