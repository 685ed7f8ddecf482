#include "cli/training_tokenizer.h"

#include <algorithm>
#include <optional>

#include <nlohmann/json.hpp>

#include "tokenizer/chat_template.h"

namespace pagedllm {

TrainingTokenizer bind_tokenizer(std::shared_ptr<const Tokenizer> tokenizer, const std::string& chat_template) {
  TrainingTokenizer t;
  t.tokenize = [tokenizer](const std::string& text, bool add_special) { return tokenizer->encode(text, add_special); };
  std::optional<std::string> source = tokenizer->chat_template();
  if (!chat_template.empty()) source = chat_template;
  if (source) {
    auto chat = std::make_shared<const ChatTemplate>(*source);
    t.chat_template = [tokenizer, chat](const nlohmann::json& messages) {
      ChatTemplateInputs inputs;
      inputs.messages = messages;
      inputs.bos_token = tokenizer->bos_token();
      inputs.eos_token = tokenizer->eos_token();
      return chat->render(inputs);
    };
  }
  t.eos_id = tokenizer->eos_token_id().value_or(-1);
  t.pad_id = std::max(t.eos_id, 0);
  return t;
}

}  // namespace pagedllm
