#include "structured/json_schema_merge.h"

#include <algorithm>
#include <set>

#include "util/error.h"

namespace pagedllm {
namespace {

const std::vector<std::string> kAllTypes = {"object", "array", "string", "integer", "number", "boolean", "null"};

std::string unescape_pointer_token(std::string token) {
  std::string out;
  for (size_t i = 0; i < token.size(); ++i) {
    if (token[i] == '~' && i + 1 < token.size()) {
      out.push_back(token[i + 1] == '1' ? '/' : '~');
      ++i;
    } else {
      out.push_back(token[i]);
    }
  }
  return out;
}

std::set<std::string> type_set(const Json& schema, const std::string& path) {
  auto types = schema_types(schema, path);
  return {types.begin(), types.end()};
}

// The const/enum values a schema allows, or nullopt when it does not list them.
std::optional<std::vector<Json>> listed_values(const Json& schema) {
  if (!schema.is_object()) return std::nullopt;
  if (schema.contains("const")) return std::vector<Json>{schema["const"]};
  if (schema.contains("enum") && schema["enum"].is_array()) return std::vector<Json>(schema["enum"].begin(), schema["enum"].end());
  return std::nullopt;
}

bool value_sets_disjoint(const std::vector<Json>& a, const std::vector<Json>& b) {
  for (const auto& x : a) {
    for (const auto& y : b) {
      if (x == y) return false;
    }
  }
  return true;
}

std::set<std::string> required_set(const Json& s) {
  std::set<std::string> out;
  if (s.is_object() && s.contains("required") && s["required"].is_array()) {
    for (const auto& r : s["required"]) {
      if (r.is_string()) out.insert(r.get<std::string>());
    }
  }
  return out;
}

}  // namespace

const Json& resolve_ref(const Json& root, const std::string& ref, const std::string& path) {
  if (ref.empty() || ref[0] != '#') {
    throw_error(ErrorKind::kUnsupported, "{}: $ref '{}' points outside the schema (only '#...' references are supported)", path, ref);
  }
  const Json* node = &root;
  size_t pos = 1;
  while (pos < ref.size()) {
    if (ref[pos] != '/') throw_error(ErrorKind::kUnsupported, "{}: $ref '{}' is not a JSON pointer", path, ref);
    const size_t next = ref.find('/', pos + 1);
    const std::string token = unescape_pointer_token(ref.substr(pos + 1, next == std::string::npos ? std::string::npos : next - pos - 1));
    if (node->is_object() && node->contains(token)) {
      node = &(*node)[token];
    } else if (node->is_array() && !token.empty() && token.find_first_not_of("0123456789") == std::string::npos &&
               std::stoul(token) < node->size()) {
      node = &(*node)[std::stoul(token)];
    } else {
      throw_error(ErrorKind::kInvalidArgument, "{}: $ref '{}' does not resolve", path, ref);
    }
    pos = next == std::string::npos ? ref.size() : next;
  }
  return *node;
}

std::vector<std::string> schema_types(const Json& schema, const std::string& path) {
  std::vector<std::string> out;
  if (schema.contains("type")) {
    const Json& t = schema["type"];
    std::vector<Json> names = t.is_array() ? std::vector<Json>(t.begin(), t.end()) : std::vector<Json>{t};
    for (const auto& n : names) {
      if (!n.is_string() || std::find(kAllTypes.begin(), kAllTypes.end(), n.get<std::string>()) == kAllTypes.end()) {
        throw_error(ErrorKind::kInvalidArgument, "{}: 'type' {} is not a JSON Schema type", path, n.dump());
      }
      if (std::find(out.begin(), out.end(), n.get<std::string>()) == out.end()) out.push_back(n.get<std::string>());
    }
    if (out.empty()) throw_error(ErrorKind::kInvalidArgument, "{}: 'type' is an empty list", path);
  } else {
    auto has_any = [&](std::initializer_list<const char*> keys) {
      for (const char* k : keys) {
        if (schema.contains(k)) return true;
      }
      return false;
    };
    if (has_any({"properties", "required", "additionalProperties"})) out.push_back("object");
    if (has_any({"items", "prefixItems", "minItems", "maxItems"})) out.push_back("array");
    if (has_any({"minLength", "maxLength", "pattern", "format"})) out.push_back("string");
    if (has_any({"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"})) out.push_back("number");
    if (out.empty()) out = kAllTypes;
  }
  // "integer" is a subset of "number": listing both means "number".
  if (std::find(out.begin(), out.end(), "number") != out.end()) {
    out.erase(std::remove(out.begin(), out.end(), "integer"), out.end());
  }
  return out;
}

Json merge_all_of(const std::vector<Json>& parts, const std::string& path) {
  Json merged = Json::object();
  std::set<std::string> closed_names;  // properties allowed by every part with additionalProperties: false
  bool closed = false;
  for (const Json& part : parts) {
    if (part.is_boolean()) {
      if (!part.get<bool>()) throw_error(ErrorKind::kInvalidArgument, "{}: allOf contains false", path);
      continue;
    }
    if (!part.is_object()) throw_error(ErrorKind::kInvalidArgument, "{}: an allOf entry is not a schema", path);
    if (part.contains("additionalProperties")) {
      const Json& ap = part["additionalProperties"];
      if (ap.is_boolean() && !ap.get<bool>()) {
        std::set<std::string> names;
        if (part.contains("properties")) {
          for (auto& [k, v] : part["properties"].items()) names.insert(k);
        }
        if (!closed) {
          closed_names = names;
        } else {
          std::set<std::string> both;
          std::set_intersection(closed_names.begin(), closed_names.end(), names.begin(), names.end(), std::inserter(both, both.end()));
          closed_names = both;
        }
        closed = true;
      } else if (!ap.is_boolean()) {
        throw_error(ErrorKind::kUnsupported, "{}: allOf with an additionalProperties schema is not supported", path);
      }
    }
    for (auto& [key, value] : part.items()) {
      if (!merged.contains(key)) {
        merged[key] = value;
        continue;
      }
      Json& m = merged[key];
      if (key == "properties") {
        for (auto& [name, schema] : value.items()) {
          m[name] = m.contains(name) ? Json{{"allOf", Json::array({m[name], schema})}} : schema;
        }
      } else if (key == "required") {
        for (const auto& r : value) {
          if (std::find(m.begin(), m.end(), r) == m.end()) m.push_back(r);
        }
      } else if (key == "type") {
        std::set<std::string> a = type_set(merged, path), b = type_set(part, path);
        // integer ∩ number = integer
        if (a.count("number")) a.insert("integer");
        if (b.count("number")) b.insert("integer");
        Json common = Json::array();
        for (const auto& t : a) {
          if (b.count(t)) common.push_back(t);
        }
        if (common.empty()) throw_error(ErrorKind::kInvalidArgument, "{}: allOf branches share no type", path);
        m = common;
      } else if (key == "minLength" || key == "minItems" || key == "minimum" || key == "exclusiveMinimum") {
        if (value > m) m = value;
      } else if (key == "maxLength" || key == "maxItems" || key == "maximum" || key == "exclusiveMaximum") {
        if (value < m) m = value;
      } else if (key == "additionalProperties") {
        if (value.is_boolean() && !value.get<bool>()) m = false;
      } else if (key == "title" || key == "description" || key == "$comment" || key == "examples" || key == "default") {
      } else if (m != value) {
        throw_error(ErrorKind::kUnsupported, "{}: allOf combines different values of '{}'", path, key);
      }
    }
  }
  if (closed) {
    merged["additionalProperties"] = false;
    if (merged.contains("properties")) {
      Json kept = Json::object();
      for (auto& [name, schema] : merged["properties"].items()) {
        if (closed_names.count(name)) kept[name] = schema;
      }
      merged["properties"] = kept;
    }
    for (const auto& r : required_set(merged)) {
      if (!closed_names.count(r)) {
        throw_error(ErrorKind::kInvalidArgument, "{}: allOf requires property '{}' that another branch forbids", path, r);
      }
    }
  }
  return merged;
}

bool are_disjoint(const Json& a, const Json& b) {
  if (!a.is_object() || !b.is_object()) return false;
  if (auto va = listed_values(a), vb = listed_values(b); va && vb) return value_sets_disjoint(*va, *vb);
  std::set<std::string> ta, tb;
  try {
    ta = type_set(a, "");
    tb = type_set(b, "");
  } catch (const Error&) {
    return false;
  }
  if (ta.count("number")) ta.insert("integer");
  if (tb.count("number")) tb.insert("integer");
  bool share_type = false;
  for (const auto& t : ta) share_type |= tb.count(t) > 0;
  if (!share_type) return true;
  // Objects told apart by a property both require with disjoint listed values (a discriminator).
  if (a.contains("properties") && b.contains("properties")) {
    const auto ra = required_set(a), rb = required_set(b);
    for (const auto& name : ra) {
      if (!rb.count(name) || !a["properties"].contains(name) || !b["properties"].contains(name)) continue;
      auto va = listed_values(a["properties"][name]), vb = listed_values(b["properties"][name]);
      if (va && vb && value_sets_disjoint(*va, *vb)) return true;
    }
  }
  return false;
}

}  // namespace pagedllm
