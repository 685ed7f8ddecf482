#include "tokenizer/regex.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "tokenizer/unicode_additions.h"
#include "tokenizer/utf8.h"
#include "util/error.h"

namespace pagedllm {

namespace {

// White_Space code points, written for use inside a character class.
constexpr std::string_view kWhiteSpaceClassBody =
    "\\t-\\r\\x{20}\\x{85}\\x{A0}\\x{1680}\\x{2000}-\\x{200A}\\x{2028}\\x{2029}\\x{202F}\\x{205F}\\x{3000}";

// Per-thread match scratch: one ovector pair is all find_all reads, and a JIT stack large enough for
// backtracking over long whitespace or letter runs.
struct MatchScratch {
  pcre2_match_data* data = pcre2_match_data_create(1, nullptr);
  pcre2_match_context* context = pcre2_match_context_create(nullptr);
  pcre2_jit_stack* jit_stack = pcre2_jit_stack_create(64 * 1024, 8 * 1024 * 1024, nullptr);
  MatchScratch() { pcre2_jit_stack_assign(context, nullptr, jit_stack); }
  ~MatchScratch() {
    pcre2_jit_stack_free(jit_stack);
    pcre2_match_context_free(context);
    pcre2_match_data_free(data);
  }
};

MatchScratch& scratch() {
  thread_local MatchScratch s;
  return s;
}

}  // namespace

std::string translate_onig_pattern(std::string_view pattern) {
  std::string out;
  out.reserve(pattern.size() + 16);
  bool in_class = false;
  size_t class_start = 0;  // index in `pattern` just past the '[' (and '^') that opened the class
  for (size_t i = 0; i < pattern.size(); ++i) {
    const char ch = pattern[i];
    if (ch == '\\' && i + 1 < pattern.size()) {
      const char next = pattern[i + 1];
      if (next == 's') {
        if (in_class) {
          out.append(kWhiteSpaceClassBody);
        } else {
          out.append("[").append(kWhiteSpaceClassBody).append("]");
        }
      } else if (next == 'S' && !in_class) {
        out.append("[^").append(kWhiteSpaceClassBody).append("]");
      } else if ((next == 'p' || (next == 'P' && !in_class)) && i + 2 < pattern.size() && pattern[i + 2] == '{' &&
                 pattern.find('}', i + 3) != std::string_view::npos) {
        const size_t close = pattern.find('}', i + 3);
        const std::string_view property = pattern.substr(i, close + 1 - i);
        const std::string extra = unicode_addition_class_items(pattern.substr(i + 3, close - i - 3));
        if (extra.empty()) {
          out.append(property);
        } else if (in_class) {
          out.append(property).append(extra);
        } else {
          out.append(next == 'P' ? "[^" : "[").append("\\p").append(property.substr(2)).append(extra).append("]");
        }
        i = close;
        continue;
      } else {
        out.push_back(ch);
        out.push_back(next);
      }
      ++i;
      continue;
    }
    if (!in_class && ch == '[') {
      in_class = true;
      class_start = i + 1;
      if (class_start < pattern.size() && pattern[class_start] == '^') ++class_start;
      out.push_back(ch);
      if (class_start == i + 2) out.push_back('^');
      i = class_start - 1;
      continue;
    }
    if (in_class && ch == '[' && i + 1 < pattern.size() && pattern[i + 1] == ':') {
      const size_t close = pattern.find(":]", i + 2);
      if (close != std::string_view::npos) {
        out.append(pattern.substr(i, close + 2 - i));
        i = close + 1;
        continue;
      }
    }
    if (in_class && ch == ']' && i != class_start) in_class = false;
    out.push_back(ch);
  }
  return out;
}

Regex::Regex(std::string_view pattern) : pattern_(pattern) {
  const std::string translated = translate_onig_pattern(pattern);
  int error_code = 0;
  PCRE2_SIZE error_offset = 0;
  code_ = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(translated.data()), translated.size(),
                        PCRE2_UTF | PCRE2_UCP | PCRE2_MULTILINE, &error_code, &error_offset, nullptr);
  if (code_ == nullptr) {
    PCRE2_UCHAR message[256];
    pcre2_get_error_message(error_code, message, sizeof(message));
    throw_error(ErrorKind::kCorrupt, "regex pattern {:?} does not compile at offset {}: {}", pattern_, error_offset,
                reinterpret_cast<const char*>(message));
  }
  // Without JIT (unsupported CPU) pcre2_match falls back to the interpreter.
  pcre2_jit_compile(code_, PCRE2_JIT_COMPLETE);
}

Regex::~Regex() { pcre2_code_free(code_); }

void Regex::find_all(std::string_view text, std::vector<ByteRange>& out) const {
  MatchScratch& s = scratch();
  const auto* subject = reinterpret_cast<PCRE2_SPTR>(text.data());
  size_t start = 0;
  bool has_last_end = false;
  size_t last_end = 0;
  while (start <= text.size()) {
    const int rc = pcre2_match(code_, subject, text.size(), start, PCRE2_NO_UTF_CHECK, s.data, s.context);
    if (rc == PCRE2_ERROR_NOMATCH) return;
    if (rc < 0) {
      PCRE2_UCHAR message[256];
      pcre2_get_error_message(rc, message, sizeof(message));
      throw_error(ErrorKind::kResourceExhausted, "regex {:?} failed to match: {}", pattern_,
                  reinterpret_cast<const char*>(message));
    }
    const PCRE2_SIZE* ovector = pcre2_get_ovector_pointer(s.data);
    const size_t begin = ovector[0];
    const size_t end = ovector[1];
    if (begin == end && has_last_end && end == last_end) {
      if (start >= text.size()) return;
      start += utf8_sequence_length(static_cast<unsigned char>(text[start]));
      continue;
    }
    out.emplace_back(begin, end);
    has_last_end = true;
    last_end = end;
    start = end;
    if (begin == end && start >= text.size()) return;
  }
}

}  // namespace pagedllm
