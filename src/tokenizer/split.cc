#include "tokenizer/split.h"

#include <algorithm>

#include "tokenizer/utf8.h"
#include "util/error.h"

namespace pagedllm {

SplitBehavior parse_split_behavior(std::string_view name) {
  if (name == "Removed") return SplitBehavior::kRemoved;
  if (name == "Isolated") return SplitBehavior::kIsolated;
  if (name == "MergedWithPrevious") return SplitBehavior::kMergedWithPrevious;
  if (name == "MergedWithNext") return SplitBehavior::kMergedWithNext;
  if (name == "Contiguous") return SplitBehavior::kContiguous;
  throw_error(ErrorKind::kCorrupt, "unknown split behavior {:?}", std::string(name));
}

namespace {

std::vector<PatternSpan> spans_from_matches(const std::vector<ByteRange>& matches, size_t size) {
  std::vector<PatternSpan> spans;
  if (size == 0) return {{0, 0, false}};
  spans.reserve(matches.size() * 2 + 1);
  size_t prev = 0;
  for (const auto& [begin, end] : matches) {
    if (prev != begin) spans.push_back({prev, begin, false});
    spans.push_back({begin, end, true});
    prev = end;
  }
  if (prev != size) spans.push_back({prev, size, false});
  return spans;
}

}  // namespace

std::vector<PatternSpan> find_regex_spans(const Regex& regex, std::string_view text) {
  std::vector<ByteRange> matches;
  if (!text.empty()) regex.find_all(text, matches);
  return spans_from_matches(matches, text.size());
}

std::vector<PatternSpan> find_literal_spans(std::string_view literal, std::string_view text) {
  if (literal.empty()) return {{0, text.size(), false}};
  std::vector<ByteRange> matches;
  size_t pos = 0;
  while ((pos = text.find(literal, pos)) != std::string_view::npos) {
    matches.emplace_back(pos, pos + literal.size());
    pos += literal.size();
  }
  return spans_from_matches(matches, text.size());
}

std::vector<PatternSpan> find_char_spans(const std::function<bool(char32_t)>& predicate, std::string_view text) {
  if (text.empty()) return {{0, 0, false}};
  std::vector<PatternSpan> spans;
  size_t last = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    const size_t begin = pos;
    const char32_t c = next_code_point(text, pos);
    if (predicate(c)) {
      if (last < begin) spans.push_back({last, begin, false});
      spans.push_back({begin, pos, true});
      last = pos;
    }
  }
  if (pos > last) spans.push_back({last, pos, false});
  return spans;
}

void invert_spans(std::vector<PatternSpan>& spans) {
  for (auto& s : spans) s.is_match = !s.is_match;
}

std::vector<ByteRange> apply_split_behavior(const std::vector<PatternSpan>& spans, SplitBehavior behavior) {
  std::vector<ByteRange> out;
  out.reserve(spans.size());
  bool previous_match = false;
  switch (behavior) {
    case SplitBehavior::kIsolated:
      for (const auto& s : spans) out.emplace_back(s.begin, s.end);
      break;
    case SplitBehavior::kRemoved:
      for (const auto& s : spans) {
        if (!s.is_match) out.emplace_back(s.begin, s.end);
      }
      break;
    case SplitBehavior::kContiguous:
      for (const auto& s : spans) {
        if (s.is_match == previous_match && !out.empty()) {
          out.back().second = s.end;
        } else {
          out.emplace_back(s.begin, s.end);
        }
        previous_match = s.is_match;
      }
      break;
    case SplitBehavior::kMergedWithPrevious:
      for (const auto& s : spans) {
        if (s.is_match && !previous_match && !out.empty()) {
          out.back().second = s.end;
        } else {
          out.emplace_back(s.begin, s.end);
        }
        previous_match = s.is_match;
      }
      break;
    case SplitBehavior::kMergedWithNext:
      for (auto it = spans.rbegin(); it != spans.rend(); ++it) {
        if (it->is_match && !previous_match && !out.empty()) {
          out.back().first = it->begin;
        } else {
          out.emplace_back(it->begin, it->end);
        }
        previous_match = it->is_match;
      }
      std::reverse(out.begin(), out.end());
      break;
  }
  return out;
}

}  // namespace pagedllm
