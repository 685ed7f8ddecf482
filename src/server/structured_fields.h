// The request fields that constrain the output: OpenAI's response_format ({"type": "json_object"} and
// {"type": "json_schema", "json_schema": {"name", "schema", "strict"}}) and vLLM's guided_json, guided_regex,
// guided_choice, guided_grammar, structured_outputs ({json | regex | choice | grammar | json_object}) and
// disable_any_whitespace. At most one may be given; errors are FieldErrors naming the field.
// The schema itself is checked when the engine compiles it (unsupported keywords answer 400 there).
// `body` is read for the checks; each schema's text is taken from `ordered_body` (the same request in the
// client's key order, see parse_ordered_json_body) so that its properties keep their order.
#pragma once

#include <optional>

#include <nlohmann/json.hpp>

#include "sampling/structured_outputs_params.h"

namespace pagedllm {

std::optional<StructuredOutputsParams> parse_structured_fields(const nlohmann::json& body,
                                                               const nlohmann::ordered_json& ordered_body);

}  // namespace pagedllm
