// The conversation of `pagedllm chat`: the messages so far, rendered through a chat template into the next
// prompt's token ids. Holds no engine; cmd_chat.cc streams each reply and hands it back with add_reply.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "tokenizer/chat_template.h"
#include "tokenizer/tokenizer.h"

namespace pagedllm {

class ChatSession {
 public:
  // `system_prompt` (may be empty) opens every conversation, also after reset(). The tokenizer must outlive this.
  ChatSession(const Tokenizer& tokenizer, const std::string& template_source, std::string system_prompt);

  // Appends the user's message and returns the prompt for the assistant's reply: the template rendered with the
  // generation prompt, tokenized without added special tokens (the template writes its own, as vLLM's chat
  // endpoint does). Throws Error(kInvalidArgument) when the template fails to render.
  std::vector<int32_t> add_user_message(const std::string& text);
  // Drops the last user message (a prompt that did not fit the context), so the user can go on.
  void drop_last_user_message();
  void add_reply(const std::string& text);
  // Forgets every message but the system prompt.
  void reset();
  const nlohmann::ordered_json& messages() const { return messages_; }

 private:
  const Tokenizer& tokenizer_;
  ChatTemplate template_;
  std::string system_prompt_;
  nlohmann::ordered_json messages_;  // [{"role", "content"}, ...]
};

}  // namespace pagedllm
