// jinja2's built-in tests (`value is name(args)`): defined, none, string, mapping, iterable, equalto, ...
#pragma once

#include <string>

#include "jinja/value.h"

namespace pagedllm::jinja {

bool has_test(const std::string& name);
bool apply_test(Interpreter& interp, const std::string& name, const Value& operand, const CallArgs& args);

}  // namespace pagedllm::jinja
