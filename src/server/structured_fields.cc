#include "server/structured_fields.h"

#include "server/api_error.h"
#include "server/request_fields.h"

namespace pagedllm {
namespace {

// A schema given as an object, or as a string holding one (vLLM accepts both for guided_json). `ordered` is the
// same value in the client's key order.
std::string schema_text(const json& value, const nlohmann::ordered_json& ordered, const std::string& param) {
  if (value.is_object() || value.is_boolean()) return ordered.dump();
  if (value.is_string()) {
    json parsed = json::parse(value.get<std::string>(), nullptr, false);
    if (parsed.is_discarded() || !(parsed.is_object() || parsed.is_boolean())) throw_field_error(param, "{} must be a JSON Schema object", param);
    return value.get<std::string>();
  }
  throw_field_error(param, "{} must be a JSON Schema object", param);
}

std::vector<std::string> choices(const json& value, const std::string& param) {
  if (!value.is_array() || value.empty()) throw_field_error(param, "{} must be a non-empty list of strings", param);
  std::vector<std::string> out;
  for (size_t i = 0; i < value.size(); ++i) out.push_back(as_string(value[i], fmt::format("{}[{}]", param, i)));
  return out;
}

// Adds one kind to `out`, refusing a second.
void set_kind(std::optional<StructuredOutputsParams>& out, const std::string& param, std::string& first_param,
              const std::function<void(StructuredOutputsParams&)>& apply) {
  if (out && out->num_kinds() > 0) {
    throw_field_error(param, "only one structured output may be given, got {} and {}", first_param, param);
  }
  if (!out) out.emplace();
  apply(*out);
  first_param = param;
}

}  // namespace

std::optional<StructuredOutputsParams> parse_structured_fields(const json& body, const nlohmann::ordered_json& ordered_body) {
  std::optional<StructuredOutputsParams> out;
  std::string first;
  if (const json* format = get_object(body, "response_format")) {
    const std::string type = get_string(*format, "type").value_or("text");
    if (type == "json_object") {
      set_kind(out, "response_format", first, [](auto& s) { s.json_object = true; });
    } else if (type == "json_schema") {
      const json* spec = get_object(*format, "json_schema");
      const json* schema = spec ? find_field(*spec, "schema") : nullptr;
      if (!schema) throw_field_error("response_format.json_schema.schema", "response_format of type json_schema needs json_schema.schema");
      const std::string text = schema_text(*schema, ordered_body.at("response_format").at("json_schema").at("schema"),
                                            "response_format.json_schema.schema");
      set_kind(out, "response_format", first, [&](auto& s) { s.json = text; });
    } else if (type != "text") {
      throw_field_error("response_format.type", "response_format.type must be text, json_object or json_schema, got {}", type);
    }
  }
  if (const json* v = find_field(body, "guided_json")) {
    const std::string text = schema_text(*v, ordered_body.at("guided_json"), "guided_json");
    set_kind(out, "guided_json", first, [&](auto& s) { s.json = text; });
  }
  if (auto v = get_string(body, "guided_regex")) set_kind(out, "guided_regex", first, [&](auto& s) { s.regex = *v; });
  if (const json* v = find_field(body, "guided_choice")) {
    auto c = choices(*v, "guided_choice");
    set_kind(out, "guided_choice", first, [&](auto& s) { s.choice = c; });
  }
  if (auto v = get_string(body, "guided_grammar")) set_kind(out, "guided_grammar", first, [&](auto& s) { s.grammar = *v; });
  if (const json* so = get_object(body, "structured_outputs")) {
    if (const json* v = find_field(*so, "json")) {
      const std::string text = schema_text(*v, ordered_body.at("structured_outputs").at("json"), "structured_outputs.json");
      set_kind(out, "structured_outputs.json", first, [&](auto& s) { s.json = text; });
    }
    if (auto v = get_string(*so, "regex")) set_kind(out, "structured_outputs.regex", first, [&](auto& s) { s.regex = *v; });
    if (const json* v = find_field(*so, "choice")) {
      auto c = choices(*v, "structured_outputs.choice");
      set_kind(out, "structured_outputs.choice", first, [&](auto& s) { s.choice = c; });
    }
    if (auto v = get_string(*so, "grammar")) set_kind(out, "structured_outputs.grammar", first, [&](auto& s) { s.grammar = *v; });
    if (get_bool(*so, "json_object").value_or(false)) {
      set_kind(out, "structured_outputs.json_object", first, [](auto& s) { s.json_object = true; });
    }
    if (auto v = get_bool(*so, "disable_any_whitespace"); v && out) out->any_whitespace = !*v;
  }
  if (auto v = get_bool(body, "disable_any_whitespace"); v && out) out->any_whitespace = !*v;
  return out;
}

}  // namespace pagedllm
