#include "tokenizer/incremental_detokenizer.h"

#include "tokenizer/utf8.h"

namespace pagedllm {

namespace {

// vLLM's INITIAL_INCREMENTAL_DETOKENIZATION_OFFSET: prompt ids kept as decode context.
constexpr size_t kPromptContextIds = 5;

}  // namespace

IncrementalDetokenizer::IncrementalDetokenizer(const Tokenizer& tokenizer, std::span<const int32_t> prompt_ids,
                                               bool skip_special_tokens)
    : tokenizer_(tokenizer), skip_special_tokens_(skip_special_tokens) {
  size_t start = prompt_ids.size() > kPromptContextIds ? prompt_ids.size() - kPromptContextIds : 0;
  // A context made only of skipped special tokens would decode to nothing and let the leading-space rules strip
  // the first new token; reach back to a token that decodes to text.
  if (skip_special_tokens_) {
    auto has_kept_id = [&](size_t from) {
      for (size_t i = from; i < prompt_ids.size(); ++i) {
        if (!tokenizer_.is_special(prompt_ids[i])) return true;
      }
      return false;
    };
    while (start > 0 && !has_kept_id(start)) --start;
  }
  // A context starting inside a character (a byte-fallback run, a byte-level sequence) decodes to U+FFFD and, with
  // ByteFallback, can turn the new bytes of the same run into U+FFFD too: start at a character boundary.
  while (start > 0 &&
         tokenizer_.decode(prompt_ids.subspan(start), skip_special_tokens_).starts_with(kReplacementChar)) {
    --start;
  }
  ids_.assign(prompt_ids.begin() + static_cast<std::ptrdiff_t>(start), prompt_ids.end());
  read_offset_ = ids_.size();
}

std::string IncrementalDetokenizer::pending_delta() const {
  const std::span<const int32_t> all(ids_);
  const std::string prefix_text =
      tokenizer_.decode(all.subspan(prefix_offset_, read_offset_ - prefix_offset_), skip_special_tokens_);
  const std::string new_text = tokenizer_.decode(all.subspan(prefix_offset_), skip_special_tokens_);
  if (new_text.size() <= prefix_text.size()) return {};
  return new_text.substr(prefix_text.size());
}

std::string IncrementalDetokenizer::add(int32_t id) {
  ids_.push_back(id);
  std::string delta = pending_delta();
  if (delta.empty() || delta.ends_with(kReplacementChar)) return {};
  prefix_offset_ = read_offset_;
  read_offset_ = ids_.size();
  return delta;
}

std::string IncrementalDetokenizer::flush() {
  std::string delta = pending_delta();
  prefix_offset_ = read_offset_;
  read_offset_ = ids_.size();
  return delta;
}

}  // namespace pagedllm
