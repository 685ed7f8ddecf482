// A Hugging Face tokenizer.json pipeline: added tokens, normalizer, pre-tokenizer, BPE model, post-processor,
// decoder, run in the order and with the semantics of HF tokenizers' Tokenizer::encode / decode.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "tokenizer/added_vocabulary.h"
#include "tokenizer/bpe_model.h"
#include "tokenizer/decoder.h"
#include "tokenizer/normalizer.h"
#include "tokenizer/post_processor.h"
#include "tokenizer/pre_tokenizer.h"
#include "tokenizer/tokenizer_backend.h"

namespace pagedllm {

class HfTokenizer : public TokenizerBackend {
 public:
  // `json_text` is the content of a tokenizer.json; `source` names it in errors. Throws Error(kCorrupt) for
  // malformed JSON or fields, Error(kUnsupported) for models or components not implemented.
  static std::unique_ptr<HfTokenizer> from_json(std::string_view json_text, const std::string& source);

  Encoding encode(std::string_view text, bool add_special_tokens) const override;
  std::string decode(std::span<const int32_t> ids, bool skip_special_tokens) const override;
  std::optional<std::string> id_to_token(int32_t id) const override;
  std::optional<int32_t> token_to_id(std::string_view token) const override;
  int32_t vocab_size() const override;
  bool is_special(int32_t id) const override;

 private:
  HfTokenizer() = default;
  // Pre-tokenizes one piece of normalized text and appends the model's ids and tokens.
  void encode_piece(std::string piece, bool is_at_origin, Encoding& out) const;

  std::unique_ptr<BpeModel> model_;
  std::unique_ptr<Normalizer> normalizer_;
  std::unique_ptr<PreTokenizer> pre_tokenizer_;
  std::unique_ptr<PostProcessor> post_processor_;
  std::unique_ptr<Decoder> decoder_;
  AddedVocabulary added_;
  int32_t vocab_size_ = 0;
};

}  // namespace pagedllm
