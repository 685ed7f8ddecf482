// Regular expressions for tokenizer.json patterns, compiled with PCRE2 (UTF + UCP, JIT when available).
//
// Hugging Face tokenizers compiles these patterns with Oniguruma (Ruby syntax); the differences that matter are
// bridged here: `^`/`$` are line anchors (multiline), and `\s` means the White_Space property (PCRE2's UCP `\s`
// would also match U+180E), and \p{..} categories include the characters Unicode 15-16 added (unicode_additions.h).
// Thread-safe: a compiled Regex is immutable and matching uses per-thread scratch space.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

struct pcre2_real_code_8;

namespace pagedllm {

using ByteRange = std::pair<size_t, size_t>;  // [begin, end) byte offsets

class Regex {
 public:
  // Throws Error(kCorrupt) naming the pattern when it does not compile.
  explicit Regex(std::string_view pattern);
  ~Regex();
  Regex(const Regex&) = delete;
  Regex& operator=(const Regex&) = delete;

  // Appends the non-overlapping matches in `text` (valid UTF-8), left to right. An empty match that ends where the
  // previous match ended is skipped, as the onig crate's find_iter does.
  void find_all(std::string_view text, std::vector<ByteRange>& out) const;

 private:
  std::string pattern_;
  pcre2_real_code_8* code_ = nullptr;
};

// Rewrites the Oniguruma-isms described above into PCRE2 syntax. Exposed for tests.
std::string translate_onig_pattern(std::string_view pattern);

}  // namespace pagedllm
