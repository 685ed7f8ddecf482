#include "util/json_limits.h"

#include <fmt/format.h>

namespace pagedllm {

std::optional<std::string> find_json_text_problem(std::string_view text, int max_depth) {
  int depth = 0;
  bool is_in_string = false;
  bool is_escaped = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '\0') return fmt::format("a NUL byte at byte {}", i);
    if (is_in_string) {
      if (is_escaped) {
        is_escaped = false;
      } else if (c == '\\') {
        is_escaped = true;
      } else if (c == '"') {
        is_in_string = false;
      }
      continue;
    }
    if (c == '"') {
      is_in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > max_depth) return fmt::format("nesting deeper than {} levels at byte {}", max_depth, i);
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return std::nullopt;
}

}  // namespace pagedllm
