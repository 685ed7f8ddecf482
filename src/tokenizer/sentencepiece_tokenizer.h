// A tokenizer.model (SentencePiece protobuf) loaded through libsentencepiece, for model folders that ship no
// tokenizer.json. add_special_tokens adds BOS (and EOS when tokenizer_config.json's add_eos_token says so), as
// transformers' LlamaTokenizer does; special tokens are SentencePiece's control and unknown pieces.
#pragma once

#include <memory>
#include <string>

#include "tokenizer/tokenizer_backend.h"

namespace sentencepiece {
class SentencePieceProcessor;
}

namespace pagedllm {

class SentencePieceTokenizer : public TokenizerBackend {
 public:
  // Throws Error(kCorrupt) naming `path` when it is not a SentencePiece model.
  SentencePieceTokenizer(const std::string& path, bool add_bos, bool add_eos);
  ~SentencePieceTokenizer() override;

  Encoding encode(std::string_view text, bool add_special_tokens) const override;
  std::string decode(std::span<const int32_t> ids, bool skip_special_tokens) const override;
  std::optional<std::string> id_to_token(int32_t id) const override;
  std::optional<int32_t> token_to_id(std::string_view token) const override;
  int32_t vocab_size() const override;
  bool is_special(int32_t id) const override;

  std::optional<int32_t> bos_id() const;
  std::optional<int32_t> eos_id() const;

 private:
  std::unique_ptr<sentencepiece::SentencePieceProcessor> processor_;
  bool add_bos_;
  bool add_eos_;
};

}  // namespace pagedllm
