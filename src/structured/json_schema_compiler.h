// JSON Schema compiled into a byte automaton that accepts only JSON texts the schema validates.
//
// Supported: type (each, and lists), properties, required, additionalProperties (bool or schema), items,
// prefixItems, minItems/maxItems, enum, const, anyOf, oneOf (branches must be provably disjoint: different types
// or different const/enum values of a shared required property), allOf (merged into one schema), $ref into the
// document ("#", "#/$defs/...", "#/definitions/...", any JSON pointer) including recursion, string
// minLength/maxLength/pattern/format (date, time, date-time, email, uuid, ipv4, uri), integer and number
// minimum/maximum/exclusiveMinimum/exclusiveMaximum, nullable (OpenAPI's `nullable: true` and type lists with
// "null"); annotations (title, description, default, examples, $schema, $id, $comment, deprecated, readOnly,
// writeOnly, $defs, definitions) are ignored. Any other keyword throws Error(kUnsupported) naming it and the
// path of the schema that holds it; a malformed schema throws Error(kInvalidArgument).
//
// Choices that make the automaton finite and the output predictable (each yields a subset of what the schema
// accepts, so every output validates):
// - Properties come in the schema's order; an absent additionalProperties allows no others (OpenAI strict
//   mode); additional properties, when allowed, follow the listed ones with keys of [A-Za-z0-9_-] that are
//   not listed names.
// - Recursion is a bounded expansion: a $ref may be entered again at most max_recursion_depth times inside
//   itself; beyond that the recursive branch is not offered (a schema that needs deeper nesting is refused as
//   unsatisfiable). The depth is configurable up to kMaxRecursionDepth (structured_output.h, with its costs).
//   An unconstrained value ({} or true) nests arrays/objects at most max_any_depth deep.
// - Exponents have at most two digits (1e99; JSON.parse reads 1e400 as Infinity); numbers with bounds have none; a non-integer bound is tightened to the integers inside it.
// - Whitespace is compact (no spaces) unless any_whitespace, which allows [ \t\n\r]* between tokens.
#pragma once

#include <nlohmann/json.hpp>

#include "structured/byte_nfa.h"

namespace pagedllm {

struct JsonSchemaOptions {
  bool any_whitespace = false;
  int max_recursion_depth = 3;
  int max_any_depth = 3;
};

NfaFragment compile_json_schema(ByteNfa& nfa, const nlohmann::ordered_json& schema, const JsonSchemaOptions& options = {});

// Any JSON object (response_format {"type": "json_object"}).
NfaFragment compile_any_json_object(ByteNfa& nfa, const JsonSchemaOptions& options = {});

}  // namespace pagedllm
