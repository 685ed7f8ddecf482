#include "cli/chat_session.h"

namespace pagedllm {

ChatSession::ChatSession(const Tokenizer& tokenizer, const std::string& template_source, std::string system_prompt)
    : tokenizer_(tokenizer), template_(template_source), system_prompt_(std::move(system_prompt)) {
  reset();
}

std::vector<int32_t> ChatSession::add_user_message(const std::string& text) {
  messages_.push_back({{"role", "user"}, {"content", text}});
  ChatTemplateInputs inputs;
  inputs.messages = messages_;
  inputs.add_generation_prompt = true;
  inputs.bos_token = tokenizer_.bos_token();
  inputs.eos_token = tokenizer_.eos_token();
  try {
    return tokenizer_.encode(template_.render(inputs), /*add_special_tokens=*/false);
  } catch (...) {
    drop_last_user_message();
    throw;
  }
}

void ChatSession::drop_last_user_message() {
  if (!messages_.empty() && messages_.back()["role"] == "user") messages_.erase(messages_.size() - 1);
}

void ChatSession::add_reply(const std::string& text) { messages_.push_back({{"role", "assistant"}, {"content", text}}); }

void ChatSession::reset() {
  messages_ = nlohmann::ordered_json::array();
  if (!system_prompt_.empty()) messages_.push_back({{"role", "system"}, {"content", system_prompt_}});
}

}  // namespace pagedllm
