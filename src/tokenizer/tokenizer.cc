#include "tokenizer/tokenizer.h"

#include <filesystem>

#include "tokenizer/hf_tokenizer.h"
#include "tokenizer/sentencepiece_tokenizer.h"
#include "tokenizer/utf8.h"
#include "util/error.h"
#include "util/mapped_file.h"

namespace pagedllm {

namespace {

std::unique_ptr<TokenizerBackend> load_backend(const std::string& file, const TokenizerConfig& config) {
  if (file.ends_with(".model")) {
    return std::make_unique<SentencePieceTokenizer>(file, config.add_bos_token.value_or(true),
                                                    config.add_eos_token.value_or(false));
  }
  return HfTokenizer::from_json(read_text_file(file), file);
}

}  // namespace

Tokenizer::Tokenizer(std::unique_ptr<TokenizerBackend> backend, TokenizerConfig config)
    : backend_(std::move(backend)), config_(std::move(config)) {
  if (auto* sp = dynamic_cast<SentencePieceTokenizer*>(backend_.get())) {
    if (config_.bos_token.empty() && sp->bos_id()) config_.bos_token = *sp->id_to_token(*sp->bos_id());
    if (config_.eos_token.empty() && sp->eos_id()) config_.eos_token = *sp->id_to_token(*sp->eos_id());
  }
  if (!config_.bos_token.empty()) bos_token_id_ = backend_->token_to_id(config_.bos_token);
  if (!config_.eos_token.empty()) eos_token_id_ = backend_->token_to_id(config_.eos_token);
}

std::unique_ptr<Tokenizer> Tokenizer::from_path(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  std::string folder;
  std::string file;
  if (fs::is_directory(path, ec)) {
    folder = path;
    if (fs::exists(path + "/tokenizer.json", ec)) {
      file = path + "/tokenizer.json";
    } else if (fs::exists(path + "/tokenizer.model", ec)) {
      file = path + "/tokenizer.model";
    } else {
      throw_error(ErrorKind::kNotFound, "{}: no tokenizer.json or tokenizer.model in this folder", path);
    }
  } else if (fs::exists(path, ec)) {
    file = path;
    folder = fs::path(path).parent_path().string();
    if (folder.empty()) folder = ".";
  } else {
    throw_error(ErrorKind::kNotFound, "{}: no such tokenizer file or folder", path);
  }
  TokenizerConfig config = read_tokenizer_config(folder);
  auto backend = load_backend(file, config);
  return std::unique_ptr<Tokenizer>(new Tokenizer(std::move(backend), std::move(config)));
}

std::unique_ptr<Tokenizer> Tokenizer::from_json_string(std::string_view json_text, const std::string& source,
                                                       TokenizerConfig config) {
  return std::unique_ptr<Tokenizer>(new Tokenizer(HfTokenizer::from_json(json_text, source), std::move(config)));
}

std::vector<int32_t> Tokenizer::encode(std::string_view text, bool add_special_tokens) const {
  return encode_with_tokens(text, add_special_tokens).ids;
}

Encoding Tokenizer::encode_with_tokens(std::string_view text, bool add_special_tokens) const {
  if (is_valid_utf8(text)) return backend_->encode(text, add_special_tokens);
  return backend_->encode(utf8_lossy(text), add_special_tokens);
}

std::string Tokenizer::decode(std::span<const int32_t> ids, bool skip_special_tokens) const {
  return backend_->decode(ids, skip_special_tokens);
}

std::string Tokenizer::id_to_token(int32_t id) const { return backend_->id_to_token(id).value_or(""); }

std::optional<int32_t> Tokenizer::token_to_id(std::string_view token) const { return backend_->token_to_id(token); }

int32_t Tokenizer::vocab_size() const { return backend_->vocab_size(); }

bool Tokenizer::is_special(int32_t id) const { return backend_->is_special(id); }

}  // namespace pagedllm
