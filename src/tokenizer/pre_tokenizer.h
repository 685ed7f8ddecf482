// tokenizer.json "pre_tokenizer": splits normalized text into the pieces the model encodes one by one
// (Hugging Face tokenizers/src/pre_tokenizers).
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <memory>
#include <string>
#include <vector>

namespace pagedllm {

struct PreToken {
  std::string text;
  // The piece begins at offset 0 of the caller's original text (Metaspace's prepend_scheme "first" reads it).
  bool is_at_origin = false;
};

class PreTokenizer {
 public:
  virtual ~PreTokenizer() = default;
  // Rewrites and splits every piece in place; pieces that become empty are dropped.
  virtual void pre_tokenize(std::vector<PreToken>& pieces) const = 0;
};

// Builds the pre-tokenizer that `config` (a non-null JSON object) describes: ByteLevel, Split, Metaspace, Digits,
// Punctuation, Whitespace, WhitespaceSplit, BertPreTokenizer, CharDelimiterSplit, Sequence.
// Throws Error(kCorrupt) for malformed fields, Error(kUnsupported) for other types.
std::unique_ptr<PreTokenizer> parse_pre_tokenizer(const nlohmann::json& config);

}  // namespace pagedllm
