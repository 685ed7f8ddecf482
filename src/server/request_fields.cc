#include "server/request_fields.h"

#include <cmath>

#include "server/api_error.h"
#include "util/json_limits.h"

namespace pagedllm {

json parse_json_body(const std::string& body) {
  if (std::optional<std::string> problem = find_json_text_problem(body)) {
    throw_error(ErrorKind::kInvalidArgument, "The request body is not acceptable JSON: {}", *problem);
  }
  json value = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (value.is_discarded()) throw Error(ErrorKind::kInvalidArgument, "The request body is not valid JSON");
  if (!value.is_object()) throw Error(ErrorKind::kInvalidArgument, "The request body must be a JSON object");
  return value;
}

nlohmann::ordered_json parse_ordered_json_body(const std::string& body) { return nlohmann::ordered_json::parse(body); }

std::string dump_json(const json& value) { return value.dump(-1, ' ', false, json::error_handler_t::replace); }

const json* find_field(const json& object, const std::string& name) {
  auto it = object.find(name);
  if (it == object.end() || it->is_null()) return nullptr;
  return &*it;
}

std::optional<bool> get_bool(const json& object, const std::string& name) {
  const json* value = find_field(object, name);
  if (value == nullptr) return std::nullopt;
  if (!value->is_boolean()) throw_field_error(name, "{} must be a boolean, got {}", name, dump_json(*value));
  return value->get<bool>();
}

std::optional<std::string> get_string(const json& object, const std::string& name) {
  const json* value = find_field(object, name);
  if (value == nullptr) return std::nullopt;
  return as_string(*value, name);
}

std::string as_string(const json& value, const std::string& param) {
  if (!value.is_string()) throw_field_error(param, "{} must be a string, got {}", param, dump_json(value));
  return value.get<std::string>();
}

int64_t as_int(const json& value, const std::string& param, int64_t min, int64_t max) {
  int64_t result = 0;
  if (value.is_number_integer()) {
    if (value.is_number_unsigned() && value.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)) {
      throw_field_error(param, "{} must be at most {}, got {}", param, max, dump_json(value));
    }
    result = value.get<int64_t>();
  } else if (value.is_number_float() && std::isfinite(value.get<double>()) &&
             value.get<double>() == std::floor(value.get<double>()) && std::fabs(value.get<double>()) < 9.0e18) {
    result = static_cast<int64_t>(value.get<double>());
  } else {
    throw_field_error(param, "{} must be an integer, got {}", param, dump_json(value));
  }
  if (result < min) throw_field_error(param, "{} must be at least {}, got {}", param, min, result);
  if (result > max) throw_field_error(param, "{} must be at most {}, got {}", param, max, result);
  return result;
}

std::optional<int64_t> get_int(const json& object, const std::string& name, int64_t min, int64_t max) {
  const json* value = find_field(object, name);
  if (value == nullptr) return std::nullopt;
  return as_int(*value, name, min, max);
}

std::optional<double> get_number(const json& object, const std::string& name) {
  const json* value = find_field(object, name);
  if (value == nullptr) return std::nullopt;
  if (!value->is_number()) throw_field_error(name, "{} must be a number, got {}", name, dump_json(*value));
  double result = value->get<double>();
  if (!std::isfinite(result)) throw_field_error(name, "{} must be finite", name);
  return result;
}

const json* get_object(const json& object, const std::string& name) {
  const json* value = find_field(object, name);
  if (value != nullptr && !value->is_object()) {
    throw_field_error(name, "{} must be an object, got {}", name, dump_json(*value));
  }
  return value;
}

std::vector<std::string> get_string_or_strings(const json& object, const std::string& name) {
  const json* value = find_field(object, name);
  std::vector<std::string> result;
  if (value == nullptr) return result;
  if (value->is_string()) {
    result.push_back(value->get<std::string>());
  } else if (value->is_array()) {
    for (size_t i = 0; i < value->size(); ++i) result.push_back(as_string((*value)[i], fmt::format("{}[{}]", name, i)));
  } else {
    throw_field_error(name, "{} must be a string or a list of strings, got {}", name, dump_json(*value));
  }
  for (const std::string& s : result) {
    if (s.empty()) throw_field_error(name, "{} must not contain empty strings", name);
  }
  return result;
}

}  // namespace pagedllm
