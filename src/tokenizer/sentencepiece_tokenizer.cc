#include "tokenizer/sentencepiece_tokenizer.h"

#include <sentencepiece_processor.h>

#include "util/error.h"

namespace pagedllm {

SentencePieceTokenizer::SentencePieceTokenizer(const std::string& path, bool add_bos, bool add_eos)
    : processor_(std::make_unique<sentencepiece::SentencePieceProcessor>()), add_bos_(add_bos), add_eos_(add_eos) {
  const auto status = processor_->Load(path);
  if (!status.ok()) throw_error(ErrorKind::kCorrupt, "{}: not a SentencePiece model: {}", path, status.ToString());
}

SentencePieceTokenizer::~SentencePieceTokenizer() = default;

Encoding SentencePieceTokenizer::encode(std::string_view text, bool add_special_tokens) const {
  Encoding out;
  std::vector<int> ids;
  const auto status = processor_->Encode(text, &ids);
  if (!status.ok()) throw_error(ErrorKind::kInvalidArgument, "SentencePiece encode failed: {}", status.ToString());
  if (add_special_tokens && add_bos_ && processor_->bos_id() >= 0) out.ids.push_back(processor_->bos_id());
  out.ids.insert(out.ids.end(), ids.begin(), ids.end());
  if (add_special_tokens && add_eos_ && processor_->eos_id() >= 0) out.ids.push_back(processor_->eos_id());
  for (const int32_t id : out.ids) out.tokens.push_back(processor_->IdToPiece(id));
  return out;
}

std::string SentencePieceTokenizer::decode(std::span<const int32_t> ids, bool skip_special_tokens) const {
  std::vector<int> kept;
  for (const int32_t id : ids) {
    if (id < 0 || id >= processor_->GetPieceSize()) continue;
    if (skip_special_tokens && is_special(id)) continue;
    kept.push_back(id);
  }
  std::string text;
  const auto status = processor_->Decode(kept, &text);
  if (!status.ok()) throw_error(ErrorKind::kInvalidArgument, "SentencePiece decode failed: {}", status.ToString());
  return text;
}

std::optional<std::string> SentencePieceTokenizer::id_to_token(int32_t id) const {
  if (id < 0 || id >= processor_->GetPieceSize()) return std::nullopt;
  return processor_->IdToPiece(id);
}

std::optional<int32_t> SentencePieceTokenizer::token_to_id(std::string_view token) const {
  const int id = processor_->PieceToId(token);
  // PieceToId answers unk_id for unknown pieces; only the unknown piece itself maps there.
  if (id == processor_->unk_id() && processor_->IdToPiece(id) != token) return std::nullopt;
  return id;
}

int32_t SentencePieceTokenizer::vocab_size() const { return processor_->GetPieceSize(); }

bool SentencePieceTokenizer::is_special(int32_t id) const {
  if (id < 0 || id >= processor_->GetPieceSize()) return false;
  return processor_->IsControl(id) || processor_->IsUnknown(id);
}

std::optional<int32_t> SentencePieceTokenizer::bos_id() const {
  return processor_->bos_id() >= 0 ? std::optional<int32_t>(processor_->bos_id()) : std::nullopt;
}

std::optional<int32_t> SentencePieceTokenizer::eos_id() const {
  return processor_->eos_id() >= 0 ? std::optional<int32_t>(processor_->eos_id()) : std::nullopt;
}

}  // namespace pagedllm
