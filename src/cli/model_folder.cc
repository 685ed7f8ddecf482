#include "cli/model_folder.h"

#include <filesystem>

#include "util/error.h"

namespace pagedllm {
namespace {

// "org/name" with no leading '.' or '/': what a vLLM or transformers user types for a hub model.
bool looks_like_hub_id(const std::string& path) {
  const size_t slash = path.find('/');
  return slash != std::string::npos && slash > 0 && path.find('/', slash + 1) == std::string::npos &&
         slash + 1 < path.size() && path[0] != '.' && path[0] != '/' && path[0] != '~';
}

}  // namespace

void check_model_folder(const std::string& path, const std::string& flag) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::exists(path, ec)) {
    const std::string hint =
        looks_like_hub_id(path)
            ? fmt::format(" '{}' looks like a Hugging Face hub id, but pagedllm does not download models: download "
                          "it first (for example `huggingface-cli download {} --local-dir DIR`) and pass DIR.",
                          path, path)
            : " pagedllm reads a local Hugging Face model folder (config.json, tokenizer.json, *.safetensors) and "
              "does not download hub ids.";
    throw_error(ErrorKind::kNotFound, "{} {}: the model folder does not exist.{} The demo model is models/stories260K.",
                flag, path, hint);
  }
  if (!fs::is_directory(path, ec)) {
    std::string parent = fs::path(path).parent_path().string();
    if (parent.empty()) parent = ".";
    throw_error(ErrorKind::kInvalidArgument,
                "{} {}: is a {}file, not a model folder; pass the folder that holds it ({}) with its config.json and "
                "tokenizer",
                flag, path, path.ends_with(".safetensors") ? "weights " : "", parent);
  }
  if (!fs::exists(fs::path(path) / "config.json", ec)) {
    throw_error(ErrorKind::kNotFound,
                "{} {}: no config.json in this folder; pass a Hugging Face model folder (config.json, tokenizer.json, "
                "*.safetensors)",
                flag, path);
  }
}

}  // namespace pagedllm
