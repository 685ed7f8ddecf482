// Stop-string detection on incrementally growing output text, with vLLM's semantics: the stop strings are tried
// in the order given, each searched only where it could overlap the newly added text; the text is cut before the
// match (or after it with include_stop_str_in_output).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace pagedllm {

struct StopStringMatch {
  std::string stop;        // which stop string matched
  size_t truncate_to = 0;  // new length of the text
};

// `text` already contains the new text, whose last `num_new_bytes` bytes were added by the latest token.
std::optional<StopStringMatch> find_stop_string(const std::string& text, size_t num_new_bytes,
                                                const std::vector<std::string>& stops, bool include_stop_str_in_output);

// While a request runs, this many trailing bytes of its text are held back from streaming, since they could
// still turn out to be the start of a stop string (longest stop string minus one byte, 0 when kept in output).
size_t stop_holdback_bytes(const std::vector<std::string>& stops, bool include_stop_str_in_output);

// The largest n <= limit such that text[0, n) does not end inside a UTF-8 sequence.
size_t utf8_safe_prefix(const std::string& text, size_t limit);

}  // namespace pagedllm
