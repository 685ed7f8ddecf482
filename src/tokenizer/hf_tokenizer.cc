#include "tokenizer/hf_tokenizer.h"

#include <nlohmann/json.hpp>

#include <algorithm>

#include "tokenizer/json_fields.h"
#include "util/error.h"
#include "util/json_limits.h"

namespace pagedllm {

namespace {

const nlohmann::json* optional_component(const nlohmann::json& root, const char* key) {
  const auto it = root.find(key);
  if (it == root.end() || it->is_null()) return nullptr;
  if (!it->is_object()) throw_error(ErrorKind::kCorrupt, "\"{}\" must be an object or null", key);
  return &*it;
}

std::unique_ptr<BpeModel> parse_model(const nlohmann::json& root) {
  const auto& model = required_field(root, "model", "tokenizer.json");
  const auto type_it = model.find("type");
  const bool is_bpe =
      (type_it != model.end() && *type_it == "BPE") || (type_it == model.end() && model.contains("merges"));
  if (!is_bpe) {
    const std::string type = type_it != model.end() && type_it->is_string() ? type_it->get<std::string>() : "unknown";
    throw_error(ErrorKind::kUnsupported, "model type {:?} is not supported (only BPE)", type);
  }
  return std::make_unique<BpeModel>(model);
}

}  // namespace

std::unique_ptr<HfTokenizer> HfTokenizer::from_json(std::string_view json_text, const std::string& source) {
  if (std::optional<std::string> problem = find_json_text_problem(json_text)) {
    throw_error(ErrorKind::kCorrupt, "{}: not acceptable JSON: {}", source, *problem);
  }
  nlohmann::json root;
  try {
    root = nlohmann::json::parse(json_text);
  } catch (const nlohmann::json::exception& e) {
    throw_error(ErrorKind::kCorrupt, "{}: not valid JSON: {}", source, e.what());
  }
  std::unique_ptr<HfTokenizer> t(new HfTokenizer());
  try {
    if (!root.is_object()) throw_error(ErrorKind::kCorrupt, "the top level must be an object");
    t->model_ = parse_model(root);
    if (const auto* n = optional_component(root, "normalizer")) t->normalizer_ = parse_normalizer(*n);
    if (const auto* p = optional_component(root, "pre_tokenizer")) t->pre_tokenizer_ = parse_pre_tokenizer(*p);
    if (const auto* p = optional_component(root, "post_processor")) t->post_processor_ = parse_post_processor(*p);
    if (const auto* d = optional_component(root, "decoder")) t->decoder_ = parse_decoder(*d);
    const auto added = root.find("added_tokens");
    if (added != root.end() && !added->is_null()) {
      t->added_ = AddedVocabulary(*added, *t->model_, t->normalizer_.get());
    }
    int32_t max_id = t->added_.max_id();
    for (const auto& [token, id] : t->model_->vocab()) max_id = std::max(max_id, id);
    t->vocab_size_ = max_id + 1;
  } catch (const Error& e) {
    throw Error(e.kind(), fmt::format("{}: {}", source, e.what()));
  } catch (const nlohmann::json::exception& e) {
    throw_error(ErrorKind::kCorrupt, "{}: {}", source, e.what());
  }
  return t;
}

void HfTokenizer::encode_piece(std::string piece, bool is_at_origin, Encoding& out) const {
  std::vector<PreToken> pieces;
  pieces.push_back({std::move(piece), is_at_origin});
  if (pre_tokenizer_) pre_tokenizer_->pre_tokenize(pieces);
  for (const auto& p : pieces) {
    const size_t first = out.ids.size();
    model_->tokenize(p.text, out.ids);
    for (size_t i = first; i < out.ids.size(); ++i) out.tokens.push_back(*model_->id_to_token(out.ids[i]));
  }
}

Encoding HfTokenizer::encode(std::string_view text, bool add_special_tokens) const {
  Encoding out;
  for (const auto& segment : added_.split(text, false)) {
    const std::string_view raw = text.substr(segment.begin, segment.end - segment.begin);
    if (segment.token_id) {
      out.ids.push_back(*segment.token_id);
      out.tokens.emplace_back(raw);
      continue;
    }
    const std::string normalized = normalizer_ ? normalizer_->normalize(raw) : std::string(raw);
    for (const auto& sub : added_.split(normalized, true)) {
      const std::string_view piece = std::string_view(normalized).substr(sub.begin, sub.end - sub.begin);
      if (sub.token_id) {
        out.ids.push_back(*sub.token_id);
        out.tokens.emplace_back(piece);
      } else if (!piece.empty()) {
        encode_piece(std::string(piece), segment.begin == 0 && sub.begin == 0, out);
      }
    }
  }
  if (add_special_tokens && post_processor_) post_processor_->process(out.ids, out.tokens);
  return out;
}

std::string HfTokenizer::decode(std::span<const int32_t> ids, bool skip_special_tokens) const {
  std::vector<std::string> tokens;
  tokens.reserve(ids.size());
  for (const int32_t id : ids) {
    const std::string* token = added_.id_to_token(id);
    if (token == nullptr) token = model_->id_to_token(id);
    if (token == nullptr) continue;
    // HF tests the decoded string, so a normalized special token such as llama2's "▁<s>" is never skipped.
    if (skip_special_tokens && added_.is_special_content(*token)) continue;
    tokens.push_back(*token);
  }
  return decode_tokens(decoder_.get(), std::move(tokens));
}

std::optional<std::string> HfTokenizer::id_to_token(int32_t id) const {
  const std::string* token = added_.id_to_token(id);
  if (token == nullptr) token = model_->id_to_token(id);
  if (token == nullptr) return std::nullopt;
  return *token;
}

std::optional<int32_t> HfTokenizer::token_to_id(std::string_view token) const {
  if (const auto id = added_.token_to_id(token)) return id;
  return model_->token_to_id(token);
}

int32_t HfTokenizer::vocab_size() const { return vocab_size_; }

bool HfTokenizer::is_special(int32_t id) const { return added_.is_special_id(id); }

}  // namespace pagedllm
