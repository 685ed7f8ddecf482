#include "sampling/structured_outputs_params.h"

namespace pagedllm {

std::string StructuredOutputsParams::cache_key() const {
  // Kind tag, options, then the payload; choices are length-prefixed so no two lists share a key.
  std::string key = any_whitespace ? "w" : "c";
  if (json) key += "json:" + *json;
  if (json_object) key += "json_object";
  if (regex) key += "regex:" + *regex;
  if (grammar) key += "grammar:" + *grammar;
  if (!choice.empty()) {
    key += "choice:";
    for (const auto& c : choice) key += std::to_string(c.size()) + ":" + c;
  }
  return key;
}

}  // namespace pagedllm
