// tokenizer.json "normalizer": rewrites text before pre-tokenization (Hugging Face tokenizers/src/normalizers).
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <memory>
#include <string>
#include <string_view>

namespace pagedllm {

class Normalizer {
 public:
  virtual ~Normalizer() = default;
  // Input and output are valid UTF-8.
  virtual std::string normalize(std::string_view text) const = 0;
};

// Builds the normalizer that `config` (a non-null JSON object) describes: Sequence, NFC, NFD, NFKC, NFKD,
// Lowercase, Prepend, Append, Replace, Strip, StripAccents, BertNormalizer, ByteLevel.
// Throws Error(kCorrupt) for malformed fields, Error(kUnsupported) for other types (e.g. Precompiled).
std::unique_ptr<Normalizer> parse_normalizer(const nlohmann::json& config);

}  // namespace pagedllm
