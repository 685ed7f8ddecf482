// jinja2's built-in filters (`value | name(args)`), with transformers' tojson (json.dumps, no HTML escaping).
#pragma once

#include <string>

#include "jinja/value.h"

namespace pagedllm::jinja {

bool has_filter(const std::string& name);
// Fails like jinja2 on bad operands (e.g. `length` of an integer); unknown names fail "No filter named".
Value apply_filter(Interpreter& interp, const std::string& name, const Value& operand, const CallArgs& args);

}  // namespace pagedllm::jinja
