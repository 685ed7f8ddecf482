// The interface behind Tokenizer: a tokenizer.json pipeline (HfTokenizer) or a SentencePiece model
// (SentencePieceTokenizer). Implementations are immutable after construction and safe to share across threads.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace pagedllm {

// ids and the token strings Hugging Face reports for them (for an added token, the text it matched).
struct Encoding {
  std::vector<int32_t> ids;
  std::vector<std::string> tokens;
};

class TokenizerBackend {
 public:
  virtual ~TokenizerBackend() = default;
  // `text` is valid UTF-8.
  virtual Encoding encode(std::string_view text, bool add_special_tokens) const = 0;
  // Ids outside the vocabulary are skipped.
  virtual std::string decode(std::span<const int32_t> ids, bool skip_special_tokens) const = 0;
  virtual std::optional<std::string> id_to_token(int32_t id) const = 0;
  virtual std::optional<int32_t> token_to_id(std::string_view token) const = 0;
  // One past the largest id (added tokens included).
  virtual int32_t vocab_size() const = 0;
  virtual bool is_special(int32_t id) const = 0;
};

}  // namespace pagedllm
