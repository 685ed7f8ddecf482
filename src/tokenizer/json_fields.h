// Typed access to tokenizer.json fields that turns a missing or mistyped field into Error(kCorrupt) naming it.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>

namespace pagedllm {

// config[key]; throws if config is not an object or has no such key. `what` names the enclosing object.
const nlohmann::json& required_field(const nlohmann::json& config, const char* key, std::string_view what);
std::string string_field(const nlohmann::json& config, const char* key, std::string_view what);
// A missing or null field gives `fallback`; a non-boolean value throws.
bool bool_field(const nlohmann::json& config, const char* key, bool fallback);
// config["type"] of a component; `what` is "normalizer", "decoder", ...
std::string type_field(const nlohmann::json& config, std::string_view what);

}  // namespace pagedllm
