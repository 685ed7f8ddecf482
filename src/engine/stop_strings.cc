#include "engine/stop_strings.h"

#include <algorithm>

namespace pagedllm {

std::optional<StopStringMatch> find_stop_string(const std::string& text, size_t num_new_bytes,
                                                const std::vector<std::string>& stops, bool include_stop_str_in_output) {
  for (const auto& stop : stops) {
    if (stop.empty()) continue;
    // A match must end inside the new text: start the search stop.size()-1 bytes before it.
    size_t window = num_new_bytes + stop.size() - 1;
    size_t from = text.size() > window ? text.size() - window : 0;
    size_t at = text.find(stop, from);
    if (at == std::string::npos) continue;
    return StopStringMatch{stop, include_stop_str_in_output ? at + stop.size() : at};
  }
  return std::nullopt;
}

size_t stop_holdback_bytes(const std::vector<std::string>& stops, bool include_stop_str_in_output) {
  if (include_stop_str_in_output) return 0;
  size_t longest = 0;
  for (const auto& s : stops) longest = std::max(longest, s.size());
  return longest > 0 ? longest - 1 : 0;
}

size_t utf8_safe_prefix(const std::string& text, size_t limit) {
  size_t n = std::min(limit, text.size());
  // Step back over continuation bytes to the lead byte of the last sequence, then keep it only if complete.
  size_t i = n;
  int continuation = 0;
  while (i > 0 && continuation < 4 && (static_cast<unsigned char>(text[i - 1]) & 0xC0) == 0x80) {
    --i;
    ++continuation;
  }
  if (i == 0) return n;
  unsigned char lead = static_cast<unsigned char>(text[i - 1]);
  size_t length = lead < 0x80 ? 1 : (lead >> 5) == 0x6 ? 2 : (lead >> 4) == 0xE ? 3 : (lead >> 3) == 0x1E ? 4 : 1;
  return (static_cast<size_t>(continuation) + 1 >= length) ? n : i - 1;
}

}  // namespace pagedllm
