#include "tokenizer/unicode.h"

#include <unicode/uchar.h>
#include <unicode/unorm2.h>
#include <unicode/ustring.h>

#include <fmt/format.h>

#include <vector>

#include "tokenizer/unicode_additions.h"
#include "tokenizer/utf8.h"
#include "util/error.h"

namespace pagedllm {

bool is_whitespace(char32_t c) {
  if (c < 0x80) return c == ' ' || (c >= '\t' && c <= '\r');
  return u_hasBinaryProperty(static_cast<UChar32>(c), UCHAR_WHITE_SPACE);
}

bool is_numeric(char32_t c) {
  if (c < 0x80) return c >= '0' && c <= '9';
  const int8_t type = u_charType(static_cast<UChar32>(c));
  return type == U_DECIMAL_DIGIT_NUMBER || type == U_LETTER_NUMBER || type == U_OTHER_NUMBER ||
         (type == U_UNASSIGNED && is_unicode_addition(c, "N"));
}

bool is_punctuation(char32_t c) {
  if (c < 0x80) return (c >= 0x21 && c <= 0x2F) || (c >= 0x3A && c <= 0x40) || (c >= 0x5B && c <= 0x60) ||
                       (c >= 0x7B && c <= 0x7E);
  return u_ispunct(static_cast<UChar32>(c)) ||
         (u_charType(static_cast<UChar32>(c)) == U_UNASSIGNED && is_unicode_addition(c, "P"));
}

bool is_word_char(char32_t c) {
  if (c < 0x80) return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
  const auto uc = static_cast<UChar32>(c);
  const int32_t mask = U_GET_GC_MASK(uc);
  if (mask == U_GC_CN_MASK) {
    return is_unicode_addition(c, "L") || is_unicode_addition(c, "M") || is_unicode_addition(c, "Nd") ||
           is_unicode_addition(c, "Pc");
  }
  return u_hasBinaryProperty(uc, UCHAR_ALPHABETIC) || (mask & (U_GC_M_MASK | U_GC_ND_MASK | U_GC_PC_MASK)) != 0 ||
         u_hasBinaryProperty(uc, UCHAR_JOIN_CONTROL);
}

bool is_combining_mark(char32_t c) {
  return (U_GET_GC_MASK(static_cast<UChar32>(c)) & U_GC_M_MASK) != 0;
}

bool is_nonspacing_mark(char32_t c) { return u_charType(static_cast<UChar32>(c)) == U_NON_SPACING_MARK; }

bool is_other_category(char32_t c) {
  return (U_GET_GC_MASK(static_cast<UChar32>(c)) & U_GC_C_MASK) != 0;
}

namespace {

bool is_ascii(std::string_view s) {
  for (char ch : s) {
    if (static_cast<unsigned char>(ch) >= 0x80) return false;
  }
  return true;
}

std::u16string to_utf16(std::string_view s) {
  std::u16string out;
  out.reserve(s.size());
  size_t pos = 0;
  while (pos < s.size()) {
    const char32_t c = next_code_point(s, pos);
    if (c >= 0x10000) {
      out.push_back(static_cast<char16_t>(0xD800 + ((c - 0x10000) >> 10)));
      out.push_back(static_cast<char16_t>(0xDC00 + ((c - 0x10000) & 0x3FF)));
    } else {
      out.push_back(static_cast<char16_t>(c));
    }
  }
  return out;
}

std::string to_utf8(const char16_t* s, size_t n) {
  std::string out;
  out.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    char32_t c = s[i];
    if (c >= 0xD800 && c <= 0xDBFF && i + 1 < n && s[i + 1] >= 0xDC00 && s[i + 1] <= 0xDFFF) {
      c = 0x10000 + ((c - 0xD800) << 10) + (s[i + 1] - 0xDC00);
      ++i;
    }
    append_utf8(out, c);
  }
  return out;
}

const UNormalizer2* normalizer_instance(NormalizationForm form) {
  UErrorCode status = U_ZERO_ERROR;
  const UNormalizer2* n = nullptr;
  switch (form) {
    case NormalizationForm::kNfc: n = unorm2_getNFCInstance(&status); break;
    case NormalizationForm::kNfd: n = unorm2_getNFDInstance(&status); break;
    case NormalizationForm::kNfkc: n = unorm2_getNFKCInstance(&status); break;
    case NormalizationForm::kNfkd: n = unorm2_getNFKDInstance(&status); break;
  }
  PAGEDLLM_CHECK_MSG(U_SUCCESS(status) && n != nullptr, "ICU normalizer unavailable: {}", u_errorName(status));
  return n;
}

}  // namespace

std::string unicode_normalize(std::string_view text, NormalizationForm form) {
  if (is_ascii(text)) return std::string(text);
  const UNormalizer2* n = normalizer_instance(form);
  const std::u16string src = to_utf16(text);
  UErrorCode status = U_ZERO_ERROR;
  if (unorm2_isNormalized(n, reinterpret_cast<const UChar*>(src.data()), static_cast<int32_t>(src.size()), &status) &&
      U_SUCCESS(status)) {
    return std::string(text);
  }
  std::vector<char16_t> dst(src.size() * 4 + 16);
  status = U_ZERO_ERROR;
  int32_t len = unorm2_normalize(n, reinterpret_cast<const UChar*>(src.data()), static_cast<int32_t>(src.size()),
                                 reinterpret_cast<UChar*>(dst.data()), static_cast<int32_t>(dst.size()), &status);
  if (status == U_BUFFER_OVERFLOW_ERROR) {
    dst.resize(len);
    status = U_ZERO_ERROR;
    len = unorm2_normalize(n, reinterpret_cast<const UChar*>(src.data()), static_cast<int32_t>(src.size()),
                           reinterpret_cast<UChar*>(dst.data()), static_cast<int32_t>(dst.size()), &status);
  }
  PAGEDLLM_CHECK_MSG(U_SUCCESS(status), "ICU normalization failed: {}", u_errorName(status));
  return to_utf8(dst.data(), static_cast<size_t>(len));
}

std::string unicode_lowercase(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  size_t pos = 0;
  while (pos < text.size()) {
    const auto b = static_cast<unsigned char>(text[pos]);
    if (b < 0x80) {
      out.push_back(static_cast<char>(b >= 'A' && b <= 'Z' ? b + 32 : b));
      ++pos;
      continue;
    }
    const char32_t c = next_code_point(text, pos);
    const std::u16string one = to_utf16(std::string_view(text.data() + pos - (c < 0x800 ? 2 : c < 0x10000 ? 3 : 4),
                                                         c < 0x800 ? 2 : c < 0x10000 ? 3 : 4));
    char16_t buf[16];
    UErrorCode status = U_ZERO_ERROR;
    // Lowercasing one character alone gives its context-free full mapping (no final-sigma rule).
    const int32_t len = u_strToLower(reinterpret_cast<UChar*>(buf), 16, reinterpret_cast<const UChar*>(one.data()),
                                     static_cast<int32_t>(one.size()), "", &status);
    if (U_SUCCESS(status)) {
      out.append(to_utf8(buf, static_cast<size_t>(len)));
    } else {
      append_utf8(out, c);
    }
  }
  return out;
}

bool is_unicode_addition(char32_t c, std::string_view category) {
  for (const auto& entry : unicode_additions()) {
    if (!std::string_view(entry.category).starts_with(category)) continue;
    for (const auto& [lo, hi] : entry.ranges) {
      if (c >= lo && c <= hi) return true;
    }
  }
  return false;
}

std::string unicode_addition_class_items(std::string_view category) {
  std::string items;
  for (const auto& entry : unicode_additions()) {
    if (!std::string_view(entry.category).starts_with(category)) continue;
    for (const auto& [lo, hi] : entry.ranges) {
      items += fmt::format("\\x{{{:X}}}", static_cast<uint32_t>(lo));
      if (hi != lo) items += fmt::format("-\\x{{{:X}}}", static_cast<uint32_t>(hi));
    }
  }
  return items;
}

}  // namespace pagedllm
