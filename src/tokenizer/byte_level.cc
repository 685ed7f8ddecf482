#include "tokenizer/byte_level.h"

#include <array>

#include "tokenizer/utf8.h"

namespace pagedllm {

namespace {

struct ByteLevelTables {
  std::array<char32_t, 256> to_char{};
  std::array<std::string, 256> to_utf8;
  std::array<int, 324> from_char{};  // indexed by code point; the alphabet's largest is 323

  ByteLevelTables() {
    from_char.fill(-1);
    char32_t next_extra = 256;
    for (int b = 0; b < 256; ++b) {
      const bool is_printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
      to_char[b] = is_printable ? static_cast<char32_t>(b) : next_extra++;
      append_utf8(to_utf8[b], to_char[b]);
      from_char[to_char[b]] = b;
    }
  }
};

const ByteLevelTables& tables() {
  static const ByteLevelTables t;
  return t;
}

}  // namespace

char32_t byte_to_byte_level_char(unsigned char byte) { return tables().to_char[byte]; }

int byte_level_char_to_byte(char32_t c) { return c < 324 ? tables().from_char[c] : -1; }

std::string bytes_to_byte_level(std::string_view bytes) {
  const auto& t = tables();
  std::string out;
  out.reserve(bytes.size() * 2);
  for (char ch : bytes) out.append(t.to_utf8[static_cast<unsigned char>(ch)]);
  return out;
}

}  // namespace pagedllm
