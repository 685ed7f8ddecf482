// UTF-8 helpers shared by the tokenizer pipeline.
//
// Invalid input is repaired the way Rust's String::from_utf8_lossy does (which is what Hugging Face tokenizers
// applies to byte-level output): every maximal invalid subpart of a sequence becomes one U+FFFD.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace pagedllm {

inline constexpr std::string_view kReplacementChar = "\xEF\xBF\xBD";  // U+FFFD

// Number of bytes of the UTF-8 sequence whose lead byte is `lead` (1 for a stray continuation or invalid byte).
inline int utf8_sequence_length(unsigned char lead) {
  if (lead < 0x80) return 1;
  if (lead >= 0xF0) return lead < 0xF8 ? 4 : 1;
  if (lead >= 0xE0) return 3;
  if (lead >= 0xC0) return 2;
  return 1;
}

// Decodes the code point at s[pos] and advances pos. Precondition: s is valid UTF-8.
inline char32_t next_code_point(std::string_view s, size_t& pos) {
  const auto b0 = static_cast<unsigned char>(s[pos]);
  if (b0 < 0x80) {
    pos += 1;
    return b0;
  }
  const int len = utf8_sequence_length(b0);
  char32_t c = b0 & (0xFF >> (len + 1));
  for (int i = 1; i < len; ++i) c = (c << 6) | (static_cast<unsigned char>(s[pos + i]) & 0x3F);
  pos += len;
  return c;
}

void append_utf8(std::string& out, char32_t c);

bool is_valid_utf8(std::string_view s);

// Lossy conversion: valid sequences are kept, each maximal invalid subpart becomes U+FFFD.
std::string utf8_lossy(std::string_view bytes);

}  // namespace pagedllm
