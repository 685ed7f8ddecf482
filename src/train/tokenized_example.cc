#include "train/tokenized_example.h"

#include "kernels/cross_entropy.h"
#include "util/error.h"

namespace pagedllm {

TokenizedExample tokenize_example(const TextExample& example, const TokenizeFn& tokenize,
                                  const TokenizeOptions& options) {
  PAGEDLLM_CHECK_MSG(options.max_seq_len > 0, "max_seq_len {} must be positive", options.max_seq_len);
  const bool has_source = !example.source.empty();
  std::vector<int32_t> source = has_source ? tokenize(example.source, true) : std::vector<int32_t>();
  std::vector<int32_t> target = tokenize(example.target, !has_source);
  if (options.eos_id >= 0) target.push_back(options.eos_id);

  TokenizedExample out;
  out.input_ids = source;
  out.input_ids.insert(out.input_ids.end(), target.begin(), target.end());
  out.labels.assign(source.size(), kIgnoreTarget);
  if (options.train_on_source) out.labels = source;
  out.labels.insert(out.labels.end(), target.begin(), target.end());
  if (static_cast<int64_t>(out.input_ids.size()) > options.max_seq_len) {
    out.input_ids.resize(options.max_seq_len);
    out.labels.resize(options.max_seq_len);
  }
  return out;
}

std::vector<TokenizedExample> tokenize_examples(const std::vector<TextExample>& examples, const TokenizeFn& tokenize,
                                                const TokenizeOptions& options) {
  std::vector<TokenizedExample> out;
  out.reserve(examples.size());
  for (const auto& e : examples) out.push_back(tokenize_example(e, tokenize, options));
  return out;
}

}  // namespace pagedllm
