// The `prompt` field of /v1/completions: a string, a list of strings, a list of token ids, or a list of lists of
// token ids. Each becomes one engine request.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace pagedllm {

class Tokenizer;

struct CompletionPrompt {
  std::string text;                // the prompt as given, or the ids decoded (what `echo` returns)
  std::vector<int32_t> token_ids;  // never empty
};

// Tokenizes text prompts (with the tokenizer's special tokens when add_special_tokens) and checks token ids
// against the vocabulary. 400 naming "prompt" for a missing, empty or ill-typed prompt.
std::vector<CompletionPrompt> parse_completion_prompts(const nlohmann::json& body, const Tokenizer& tokenizer,
                                                       bool add_special_tokens);

}  // namespace pagedllm
