#include "server/completion_prompts.h"

#include "server/api_error.h"
#include "server/request_fields.h"
#include "tokenizer/tokenizer.h"

namespace pagedllm {
namespace {

CompletionPrompt prompt_from_text(const std::string& text, const Tokenizer& tokenizer, bool add_special_tokens) {
  CompletionPrompt prompt{text, tokenizer.encode(text, add_special_tokens)};
  if (prompt.token_ids.empty()) throw_field_error("prompt", "The prompt must not be empty");
  return prompt;
}

CompletionPrompt prompt_from_ids(const json& ids, const std::string& param, const Tokenizer& tokenizer) {
  if (ids.empty()) throw_field_error("prompt", "{} must not be empty", param);
  CompletionPrompt prompt;
  int64_t vocab_size = tokenizer.vocab_size();
  for (size_t i = 0; i < ids.size(); ++i) {
    const json& id = ids[i];
    if (!id.is_number_integer()) throw_field_error("prompt", "{}[{}] must be a token id", param, i);
    if (id.get<int64_t>() < 0 || id.get<int64_t>() >= vocab_size) {
      throw_field_error("prompt", "Token id {} is out of vocabulary", id.get<int64_t>());
    }
    prompt.token_ids.push_back(static_cast<int32_t>(id.get<int64_t>()));
  }
  prompt.text = tokenizer.decode(prompt.token_ids, /*skip_special_tokens=*/false);
  return prompt;
}

}  // namespace

std::vector<CompletionPrompt> parse_completion_prompts(const json& body, const Tokenizer& tokenizer,
                                                       bool add_special_tokens) {
  const json* prompt = find_field(body, "prompt");
  if (prompt == nullptr) throw_field_error("prompt", "prompt is required");
  if (prompt->is_string()) return {prompt_from_text(prompt->get<std::string>(), tokenizer, add_special_tokens)};
  if (!prompt->is_array() || prompt->empty()) {
    throw_field_error("prompt", "prompt must be a string, a list of strings, a list of token ids or a list of lists "
                                "of token ids");
  }
  const json& first = prompt->front();
  if (first.is_number_integer()) return {prompt_from_ids(*prompt, "prompt", tokenizer)};
  std::vector<CompletionPrompt> prompts;
  for (size_t i = 0; i < prompt->size(); ++i) {
    const json& item = (*prompt)[i];
    std::string param = fmt::format("prompt[{}]", i);
    if (first.is_string() && item.is_string()) {
      prompts.push_back(prompt_from_text(item.get<std::string>(), tokenizer, add_special_tokens));
    } else if (first.is_array() && item.is_array()) {
      prompts.push_back(prompt_from_ids(item, param, tokenizer));
    } else {
      throw_field_error("prompt", "{} must be of the same kind as prompt[0] (a string or a list of token ids)", param);
    }
  }
  return prompts;
}

}  // namespace pagedllm
