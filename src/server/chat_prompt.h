// Turning a chat request's `messages` into prompt tokens: validate and normalize the messages, render them with
// the chat template, tokenize. Shared by /v1/chat/completions and the chat form of /tokenize.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace pagedllm {

class ServerContext;

struct ChatPrompt {
  std::string text;  // the rendered template
  std::vector<int32_t> token_ids;
};

// Reads `messages` (roles system/developer/user/assistant/tool; content a string, null, or a list of
// {"type": "text", "text"} parts joined with "\n"), `add_generation_prompt` (default true), `add_special_tokens`
// (default false: the template writes BOS itself) and `chat_template_kwargs`. Errors name the field, e.g.
// "messages[1].role"; a template that fails to render is a 400 with the template's message.
// The template sees `tools` from `ordered_body` (the request in the client's key order, parse_ordered_json_body),
// so their parameters print in the order the client listed them.
ChatPrompt render_chat_prompt(const nlohmann::json& body, const nlohmann::ordered_json& ordered_body,
                              const ServerContext& context);

// The messages as the template sees them: content flattened to a string, other fields kept.
nlohmann::json normalize_chat_messages(const nlohmann::json& body);

}  // namespace pagedllm
