// Schema algebra the compiler needs before building automata: $ref resolution, allOf merging and the oneOf
// disjointness test. Pure functions over JSON; errors name the schema path.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace pagedllm {

using Json = nlohmann::ordered_json;

// The schema a "$ref" points to inside `root` (a JSON pointer fragment such as "#/$defs/node" or "#").
// Throws Error(kUnsupported) for a reference outside the document, Error(kInvalidArgument) for a dangling one.
const Json& resolve_ref(const Json& root, const std::string& ref, const std::string& path);

// One schema with the constraints of all `parts` (each already free of a top-level $ref).
Json merge_all_of(const std::vector<Json>& parts, const std::string& path);

// True when no JSON value can satisfy both schemas, by a cheap sufficient test.
bool are_disjoint(const Json& a, const Json& b);

// The declared or implied types of a schema ("integer" stands alone only when "number" is absent).
std::vector<std::string> schema_types(const Json& schema, const std::string& path);

}  // namespace pagedllm
