#include "tokenizer/tokenizer_config.h"

#include <nlohmann/json.hpp>

#include "util/error.h"
#include "util/json_limits.h"
#include "util/mapped_file.h"

namespace pagedllm {

namespace {

std::optional<nlohmann::json> read_json_if_present(const std::string& path) {
  if (!file_exists(path)) return std::nullopt;
  const std::string text = read_text_file(path);
  if (std::optional<std::string> problem = find_json_text_problem(text)) {
    throw_error(ErrorKind::kCorrupt, "{}: not acceptable JSON: {}", path, *problem);
  }
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    throw_error(ErrorKind::kCorrupt, "{}: not valid JSON: {}", path, e.what());
  }
}

std::string token_string(const nlohmann::json& config, const char* key) {
  const auto it = config.find(key);
  if (it == config.end()) return {};
  if (it->is_string()) return it->get<std::string>();
  if (it->is_object() && it->contains("content") && (*it)["content"].is_string()) {
    return (*it)["content"].get<std::string>();
  }
  return {};
}

std::optional<std::string> chat_template_of(const nlohmann::json& config, const std::string& path) {
  const auto it = config.find("chat_template");
  if (it == config.end() || it->is_null()) return std::nullopt;
  if (it->is_string()) return it->get<std::string>();
  if (it->is_array()) {
    for (const auto& entry : *it) {
      if (entry.is_object() && entry.value("name", "") == "default" && entry.contains("template") &&
          entry["template"].is_string()) {
        return entry["template"].get<std::string>();
      }
    }
    return std::nullopt;
  }
  throw_error(ErrorKind::kCorrupt, "{}: \"chat_template\" must be a string or a list of {{name, template}}", path);
}

std::optional<bool> optional_bool(const nlohmann::json& config, const char* key) {
  const auto it = config.find(key);
  if (it == config.end() || !it->is_boolean()) return std::nullopt;
  return it->get<bool>();
}

}  // namespace

TokenizerConfig read_tokenizer_config(const std::string& folder) {
  TokenizerConfig out;
  const std::string config_path = folder + "/tokenizer_config.json";
  if (const auto config = read_json_if_present(config_path)) {
    if (!config->is_object()) throw_error(ErrorKind::kCorrupt, "{}: must be a JSON object", config_path);
    out.bos_token = token_string(*config, "bos_token");
    out.eos_token = token_string(*config, "eos_token");
    out.chat_template = chat_template_of(*config, config_path);
    out.add_bos_token = optional_bool(*config, "add_bos_token");
    out.add_eos_token = optional_bool(*config, "add_eos_token");
  }
  const std::string map_path = folder + "/special_tokens_map.json";
  if (const auto map = read_json_if_present(map_path); map && map->is_object()) {
    if (out.bos_token.empty()) out.bos_token = token_string(*map, "bos_token");
    if (out.eos_token.empty()) out.eos_token = token_string(*map, "eos_token");
  }
  const std::string jinja_path = folder + "/chat_template.jinja";
  if (!out.chat_template && file_exists(jinja_path)) out.chat_template = read_text_file(jinja_path);
  return out;
}

}  // namespace pagedllm
