// The parts of tokenizer_config.json / special_tokens_map.json (and chat_template.jinja) a Tokenizer exposes.
#pragma once

#include <optional>
#include <string>

namespace pagedllm {

struct TokenizerConfig {
  std::string bos_token;  // "" when none
  std::string eos_token;
  std::optional<std::string> chat_template;
  std::optional<bool> add_bos_token;
  std::optional<bool> add_eos_token;
};

// Reads `folder`/tokenizer_config.json, then fills what it lacks from special_tokens_map.json and
// chat_template.jinja. Missing files give empty fields; a file that is not valid JSON throws Error(kCorrupt).
// A token may be a string or an {"content": ...} object; a chat template a string or a list of {name, template}
// (the "default" entry is taken).
TokenizerConfig read_tokenizer_config(const std::string& folder);

}  // namespace pagedllm
