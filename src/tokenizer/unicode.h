// Unicode character properties and normalization forms, with the semantics Hugging Face tokenizers gets from Rust
// (char::is_whitespace, char::is_numeric, char::to_lowercase, regex \w, unicode-normalization). Backed by ICU.
#pragma once

#include <string>
#include <string_view>

namespace pagedllm {

enum class NormalizationForm { kNfc, kNfd, kNfkc, kNfkd };

bool is_whitespace(char32_t c);   // White_Space property
bool is_numeric(char32_t c);      // general category Nd, Nl or No
bool is_punctuation(char32_t c);  // ASCII punctuation or general category P*
bool is_word_char(char32_t c);    // regex \w: Alphabetic, M*, Nd, Pc, Join_Control
bool is_combining_mark(char32_t c);  // general category M*
bool is_nonspacing_mark(char32_t c);  // general category Mn
bool is_other_category(char32_t c);   // general category C* (Cc, Cf, Cn, Co, Cs)

// Input and output are valid UTF-8.
std::string unicode_normalize(std::string_view text, NormalizationForm form);
// Full per-character lowercase mapping without context (as Rust's char::to_lowercase; 'İ' -> "i̇", 'Σ' -> 'σ').
std::string unicode_lowercase(std::string_view text);

}  // namespace pagedllm
