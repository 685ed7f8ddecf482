// What a request's output must look like (vLLM's StructuredOutputsParams / guided decoding): exactly one of a
// JSON Schema, any JSON object, a regex, a list of choices or a grammar. The structured library compiles it;
// sampling only carries it and applies the resulting token mask.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace pagedllm {

class CompiledConstraint;  // structured/structured_output.h (sampling only carries the pointer)

struct StructuredOutputsParams {
  std::optional<std::string> json;     // a JSON Schema, as JSON text
  bool json_object = false;            // any JSON object (response_format json_object)
  std::optional<std::string> regex;    // the whole output matches it
  std::vector<std::string> choice;     // non-empty: the output is one of these strings
  std::optional<std::string> grammar;  // GBNF (see structured/grammar_compiler.h)
  bool any_whitespace = false;         // JSON: whitespace allowed between tokens (default: compact)
  // The constraint already compiled from the fields above by the caller (AsyncEngine compiles on the HTTP thread,
  // so a slow schema never stalls the engine's steps); null: the engine compiles it when the request is added.
  std::shared_ptr<CompiledConstraint> compiled;

  int num_kinds() const {
    return int(json.has_value()) + int(json_object) + int(regex.has_value()) + int(!choice.empty()) + int(grammar.has_value());
  }
  // Identifies the compiled automaton: equal keys compile to the same constraint.
  std::string cache_key() const;
};

}  // namespace pagedllm
