#include "tokenizer/utf8.h"

namespace pagedllm {

void append_utf8(std::string& out, char32_t c) {
  if (c < 0x80) {
    out.push_back(static_cast<char>(c));
  } else if (c < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (c >> 6)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else if (c < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (c >> 12)));
    out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (c >> 18)));
    out.push_back(static_cast<char>(0x80 | ((c >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  }
}

namespace {

// Number of leading bytes of s[pos..] that form a valid prefix of some UTF-8 sequence (Unicode table 3-7),
// and the full length that sequence needs. valid == needed means a complete character.
struct SequenceProbe {
  size_t valid = 0;
  size_t needed = 1;
};

SequenceProbe probe_sequence(std::string_view s, size_t pos) {
  const auto b0 = static_cast<unsigned char>(s[pos]);
  SequenceProbe probe;
  if (b0 < 0x80) return {1, 1};
  unsigned char lo = 0x80, hi = 0xBF;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    probe.needed = 2;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    probe.needed = 3;
    if (b0 == 0xE0) lo = 0xA0;
    if (b0 == 0xED) hi = 0x9F;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    probe.needed = 4;
    if (b0 == 0xF0) lo = 0x90;
    if (b0 == 0xF4) hi = 0x8F;
  } else {
    return {0, 1};
  }
  probe.valid = 1;
  for (size_t i = 1; i < probe.needed && pos + i < s.size(); ++i) {
    const auto b = static_cast<unsigned char>(s[pos + i]);
    if (b < lo || b > hi) break;
    lo = 0x80;
    hi = 0xBF;
    ++probe.valid;
  }
  return probe;
}

// Length of the valid UTF-8 sequence starting at s[pos], or 0 if the bytes there are not a valid sequence.
size_t valid_sequence_length(std::string_view s, size_t pos) {
  const SequenceProbe p = probe_sequence(s, pos);
  return p.valid == p.needed ? p.needed : 0;
}

}  // namespace

bool is_valid_utf8(std::string_view s) {
  size_t pos = 0;
  while (pos < s.size()) {
    if (static_cast<unsigned char>(s[pos]) < 0x80) {
      ++pos;
      continue;
    }
    const size_t len = valid_sequence_length(s, pos);
    if (len == 0) return false;
    pos += len;
  }
  return true;
}

std::string utf8_lossy(std::string_view bytes) {
  if (is_valid_utf8(bytes)) return std::string(bytes);
  std::string out;
  out.reserve(bytes.size() + 8);
  size_t pos = 0;
  while (pos < bytes.size()) {
    const SequenceProbe p = probe_sequence(bytes, pos);
    if (p.valid == p.needed) {
      out.append(bytes.substr(pos, p.needed));
      pos += p.needed;
    } else {
      out.append(kReplacementChar);
      pos += p.valid == 0 ? 1 : p.valid;
    }
  }
  return out;
}

}  // namespace pagedllm
