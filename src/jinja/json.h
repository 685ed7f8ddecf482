// Python's json.dumps, which transformers installs as the `tojson` filter of chat templates
// (ensure_ascii=False by default, no HTML escaping, unlike jinja2's own tojson).
#pragma once

#include <optional>
#include <string>

#include "jinja/value.h"

namespace pagedllm::jinja {

struct JsonDumpOptions {
  std::optional<std::string> indent;  // None: one line; otherwise newline + indent per level (int n → n spaces)
  std::string item_separator = ", ";  // json.dumps uses "," instead when indent is set and separators is None
  std::string key_separator = ": ";
  bool sort_keys = false;
  bool ensure_ascii = false;
};

// Fails with "TypeError: Object of type X is not JSON serializable" for undefined, namespaces, callables and
// generators, and for dict keys that are not str/int/float/bool/None.
std::string python_json_dumps(const Value& value, const JsonDumpOptions& options);

}  // namespace pagedllm::jinja
