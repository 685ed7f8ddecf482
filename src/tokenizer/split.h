// Splitting a string on a pattern, with Hugging Face's SplitDelimiterBehavior semantics
// (tokenizers/src/tokenizer/normalizer.rs `split`, pattern.rs `find_matches`).
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/regex.h"

namespace pagedllm {

// A cover of the whole input by consecutive ranges, each flagged as a pattern match or not.
struct PatternSpan {
  size_t begin;
  size_t end;
  bool is_match;
};

enum class SplitBehavior { kRemoved, kIsolated, kMergedWithPrevious, kMergedWithNext, kContiguous };

// Parses "Removed", "Isolated", ... (the serialized names); throws Error(kCorrupt) on anything else.
SplitBehavior parse_split_behavior(std::string_view name);

// Every match of `regex`. An empty input gives one empty non-match span.
std::vector<PatternSpan> find_regex_spans(const Regex& regex, std::string_view text);
// Every occurrence of `literal` (non-overlapping, left to right); an empty literal never matches.
std::vector<PatternSpan> find_literal_spans(std::string_view literal, std::string_view text);
// Every single character for which `predicate` holds is its own match.
std::vector<PatternSpan> find_char_spans(const std::function<bool(char32_t)>& predicate, std::string_view text);

void invert_spans(std::vector<PatternSpan>& spans);

// The byte ranges of the pieces `behavior` keeps, in order. Empty ranges may appear; callers drop them.
std::vector<ByteRange> apply_split_behavior(const std::vector<PatternSpan>& spans, SplitBehavior behavior);

}  // namespace pagedllm
