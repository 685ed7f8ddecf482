// Typed, range-checked reads of request body fields. Every failure is a FieldError (HTTP 400) whose message and
// param name the field, e.g. "top_p must be in (0, 1], got 1.5".
//
// A field that is absent or null reads as "not given" (std::nullopt), as OpenAI and vLLM treat null.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace pagedllm {

using nlohmann::json;

// Parses the request body; 400 for malformed JSON, a body that is not a JSON object, or one that json_limits.h
// refuses (nesting deeper than kMaxJsonDepth, a NUL byte).
json parse_json_body(const std::string& body);
// The same body keeping the client's key order (call after parse_json_body has checked it), for the values whose
// order means something: JSON Schemas, whose properties are generated in their listed order as OpenAI, vLLM and
// xgrammar do. `json` sorts keys, so a schema must never travel through it.
nlohmann::ordered_json parse_ordered_json_body(const std::string& body);

// Serializes for the wire; invalid UTF-8 (a token that ends inside a character) becomes U+FFFD instead of throwing.
std::string dump_json(const json& value);

const json* find_field(const json& object, const std::string& name);  // nullptr when absent or null

std::optional<bool> get_bool(const json& object, const std::string& name);
std::optional<std::string> get_string(const json& object, const std::string& name);
// Integers: JSON integers, or floats with an integral value (16.0), within [min, max].
std::optional<int64_t> get_int(const json& object, const std::string& name, int64_t min, int64_t max);
std::optional<double> get_number(const json& object, const std::string& name);
// An object field; 400 when present and not an object.
const json* get_object(const json& object, const std::string& name);

// Reads a value already located (e.g. an array element) with `param` naming it in errors.
int64_t as_int(const json& value, const std::string& param, int64_t min, int64_t max);
std::string as_string(const json& value, const std::string& param);

// A string or a list of strings ("stop"); empty strings are refused.
std::vector<std::string> get_string_or_strings(const json& object, const std::string& name);

}  // namespace pagedllm
