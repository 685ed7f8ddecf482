// The tokenizer of a Hugging Face model folder: tokenizer.json (matching HF tokenizers' ids exactly) or, without
// one, tokenizer.model through libsentencepiece; plus BOS/EOS and the chat template from tokenizer_config.json.
// Immutable after from_path and safe to use from several threads at once.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/tokenizer_backend.h"
#include "tokenizer/tokenizer_config.h"

namespace pagedllm {

class Tokenizer {
 public:
  // path: a model folder (tokenizer.json, else tokenizer.model; tokenizer_config.json and special_tokens_map.json
  // when present) or a tokenizer.json / tokenizer.model file (config files are read from its folder).
  // Throws Error(kNotFound / kCorrupt / kUnsupported) naming the file and the problem.
  static std::unique_ptr<Tokenizer> from_path(const std::string& path);
  // A tokenizer.json given as text, with an optional config; `source` names it in errors.
  static std::unique_ptr<Tokenizer> from_json_string(std::string_view json_text, const std::string& source,
                                                     TokenizerConfig config = {});

  // add_special_tokens applies the post-processor (BOS etc.), like HF. Invalid UTF-8 in `text` is read as U+FFFD.
  std::vector<int32_t> encode(std::string_view text, bool add_special_tokens = true) const;
  // Ids with the token strings HF reports (an added token reports the text it matched).
  Encoding encode_with_tokens(std::string_view text, bool add_special_tokens = true) const;
  // Ids outside the vocabulary are skipped.
  std::string decode(std::span<const int32_t> ids, bool skip_special_tokens = false) const;

  // The vocabulary string of `id` as HF's id_to_token gives it ("" for an unknown id); an added token with
  // normalized=true reads as its normalized content (llama2's id 1 is "▁<s>").
  std::string id_to_token(int32_t id) const;
  std::optional<int32_t> token_to_id(std::string_view token) const;
  int32_t vocab_size() const;  // one past the largest id, added tokens included
  bool is_special(int32_t id) const;

  std::optional<int32_t> bos_token_id() const { return bos_token_id_; }
  std::optional<int32_t> eos_token_id() const { return eos_token_id_; }
  std::string bos_token() const { return config_.bos_token; }
  std::string eos_token() const { return config_.eos_token; }
  std::optional<std::string> chat_template() const { return config_.chat_template; }
  // tokenizer_config.json's add_bos_token, when it says (transformers adds BOS from it; tokenizers does not).
  std::optional<bool> add_bos_token() const { return config_.add_bos_token; }

 private:
  Tokenizer(std::unique_ptr<TokenizerBackend> backend, TokenizerConfig config);

  std::unique_ptr<TokenizerBackend> backend_;
  TokenizerConfig config_;
  std::optional<int32_t> bos_token_id_;
  std::optional<int32_t> eos_token_id_;
};

}  // namespace pagedllm
