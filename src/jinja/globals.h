// The global functions a chat template can call: jinja2's range, dict, namespace (with the sandbox's range limit),
// and transformers' raise_exception and strftime_now.
#pragma once

#include "jinja/interpreter.h"

namespace pagedllm::jinja {

void add_builtin_globals(Scope& scope);

}  // namespace pagedllm::jinja
