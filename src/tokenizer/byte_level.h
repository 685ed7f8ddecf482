// GPT-2's byte-level alphabet (bytes_to_unicode): every byte maps to one printable code point. Bytes 33-126,
// 161-172 and 174-255 map to themselves; the other 68 map to 256, 257, ... in increasing byte order.
#pragma once

#include <string>
#include <string_view>

namespace pagedllm {

char32_t byte_to_byte_level_char(unsigned char byte);
// The byte a byte-level code point stands for, or -1 when `c` is not in the alphabet.
int byte_level_char_to_byte(char32_t c);
// Each byte of `bytes` replaced by the UTF-8 encoding of its byte-level code point.
std::string bytes_to_byte_level(std::string_view bytes);

}  // namespace pagedllm
