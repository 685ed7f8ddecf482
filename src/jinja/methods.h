// Methods of str, dict and list values that templates call (s.strip(), d.items(), l.index(x), ...).
// In jinja2's ImmutableSandboxedEnvironment the mutating methods (list.append, dict.update, ...) are unsafe: looking
// them up yields an Undefined, so calling one is an error while testing it with `is defined` is false.
#pragma once

#include <optional>
#include <string>

#include "jinja/value.h"

namespace pagedllm::jinja {

// The bound method `obj.name`, an Undefined for unsafe methods, or nullopt when obj has no such method.
std::optional<Value> find_method(const Value& obj, const std::string& name);

// Python str.format with positional ({} / {0}) and keyword ({name}) fields; format specs beyond the empty spec
// are rejected.
std::string python_str_format(const std::string& format, const CallArgs& args);

}  // namespace pagedllm::jinja
