// Turning a TextExample into token ids and loss labels, as the QLoRA repository's DataCollatorForCausalLM does:
// source = BOS + source text (tokenized with special tokens), target = target text + EOS; labels are the input ids
// with the source masked (kIgnoreTarget) unless train_on_source; the concatenation is truncated to max_seq_len.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "train/instruction_data.h"

namespace pagedllm {

// The tokenizer: ids of `text`, with the model's special prefix (BOS) when add_special.
using TokenizeFn = std::function<std::vector<int32_t>(const std::string& text, bool add_special)>;

struct TokenizeOptions {
  int32_t eos_id = -1;      // appended to the target; −1: none
  bool train_on_source = false;
  int64_t max_seq_len = 0;  // > 0
};

// labels[t] is the label OF position t (kIgnoreTarget where masked), not yet shifted for next-token prediction.
struct TokenizedExample {
  std::vector<int32_t> input_ids;
  std::vector<int32_t> labels;
};

// A text example (empty source: plain text, whose BOS comes from the target's tokenization).
TokenizedExample tokenize_example(const TextExample& example, const TokenizeFn& tokenize,
                                  const TokenizeOptions& options);

std::vector<TokenizedExample> tokenize_examples(const std::vector<TextExample>& examples, const TokenizeFn& tokenize,
                                                const TokenizeOptions& options);

}  // namespace pagedllm
