// tokenizer.json "decoder": turns token strings back into text (Hugging Face tokenizers/src/decoders).
// Each decoder rewrites the list of token strings (HF's decode_chain); the text is their concatenation.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <memory>
#include <string>
#include <vector>

namespace pagedllm {

class Decoder {
 public:
  virtual ~Decoder() = default;
  virtual void decode_chain(std::vector<std::string>& tokens) const = 0;
};

// ByteLevel, Replace, ByteFallback, Fuse, Strip, Metaspace, BPEDecoder, WordPiece, Sequence.
// Throws Error(kCorrupt) for malformed fields, Error(kUnsupported) for other types.
std::unique_ptr<Decoder> parse_decoder(const nlohmann::json& config);

// The decoded text: decoder->decode_chain, then concatenation; without a decoder the tokens joined by spaces.
std::string decode_tokens(const Decoder* decoder, std::vector<std::string> tokens);

}  // namespace pagedllm
