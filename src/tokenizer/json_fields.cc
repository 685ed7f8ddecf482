#include "tokenizer/json_fields.h"

#include "util/error.h"

namespace pagedllm {

const nlohmann::json& required_field(const nlohmann::json& config, const char* key, std::string_view what) {
  if (!config.is_object()) throw_error(ErrorKind::kCorrupt, "{} must be a JSON object", what);
  const auto it = config.find(key);
  if (it == config.end()) throw_error(ErrorKind::kCorrupt, "{} is missing field \"{}\"", what, key);
  return *it;
}

std::string string_field(const nlohmann::json& config, const char* key, std::string_view what) {
  const auto& value = required_field(config, key, what);
  if (!value.is_string()) throw_error(ErrorKind::kCorrupt, "{}: field \"{}\" must be a string", what, key);
  return value.get<std::string>();
}

bool bool_field(const nlohmann::json& config, const char* key, bool fallback) {
  if (!config.is_object()) return fallback;
  const auto it = config.find(key);
  if (it == config.end() || it->is_null()) return fallback;
  if (!it->is_boolean()) throw_error(ErrorKind::kCorrupt, "field \"{}\" must be true or false", key);
  return it->get<bool>();
}

std::string type_field(const nlohmann::json& config, std::string_view what) {
  return string_field(config, "type", what);
}

}  // namespace pagedllm
