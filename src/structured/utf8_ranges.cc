#include "structured/utf8_ranges.h"

#include <algorithm>

namespace pagedllm {
namespace {

constexpr uint32_t kMaxCodePoint = 0x10FFFF;

int encode(uint32_t c, uint8_t* out) {
  if (c < 0x80) {
    out[0] = uint8_t(c);
    return 1;
  }
  if (c < 0x800) {
    out[0] = uint8_t(0xC0 | (c >> 6));
    out[1] = uint8_t(0x80 | (c & 0x3F));
    return 2;
  }
  if (c < 0x10000) {
    out[0] = uint8_t(0xE0 | (c >> 12));
    out[1] = uint8_t(0x80 | ((c >> 6) & 0x3F));
    out[2] = uint8_t(0x80 | (c & 0x3F));
    return 3;
  }
  out[0] = uint8_t(0xF0 | (c >> 18));
  out[1] = uint8_t(0x80 | ((c >> 12) & 0x3F));
  out[2] = uint8_t(0x80 | ((c >> 6) & 0x3F));
  out[3] = uint8_t(0x80 | (c & 0x3F));
  return 4;
}

// Byte sequences from lo[i..n) to hi[i..n) inclusive (lexicographic on same-length encodings, which is the
// code point order).
NfaFragment encoded_range(ByteNfa& nfa, std::vector<uint8_t> lo, std::vector<uint8_t> hi, size_t i) {
  const size_t n = lo.size();
  if (i + 1 == n) return nfa.byte_range(lo[i], hi[i]);
  if (lo[i] == hi[i]) return nfa.seq(nfa.byte_range(lo[i], lo[i]), encoded_range(nfa, lo, hi, i + 1));
  auto full_tail = [&]() {
    std::vector<NfaFragment> parts;
    for (size_t k = i + 1; k < n; ++k) parts.push_back(nfa.byte_range(0x80, 0xBF));
    return nfa.seq(parts);
  };
  bool lo_min = true, hi_max = true;
  for (size_t k = i + 1; k < n; ++k) {
    lo_min &= lo[k] == 0x80;
    hi_max &= hi[k] == 0xBF;
  }
  std::vector<NfaFragment> options;
  uint8_t mid_lo = lo[i], mid_hi = hi[i];
  if (!lo_min) {
    std::vector<uint8_t> top = lo;
    for (size_t k = i + 1; k < n; ++k) top[k] = 0xBF;
    options.push_back(nfa.seq(nfa.byte_range(lo[i], lo[i]), encoded_range(nfa, lo, top, i + 1)));
    ++mid_lo;
  }
  if (!hi_max) {
    std::vector<uint8_t> bottom = hi;
    for (size_t k = i + 1; k < n; ++k) bottom[k] = 0x80;
    options.push_back(nfa.seq(nfa.byte_range(hi[i], hi[i]), encoded_range(nfa, bottom, hi, i + 1)));
    --mid_hi;
  }
  if (mid_lo <= mid_hi) options.push_back(nfa.seq(nfa.byte_range(mid_lo, mid_hi), full_tail()));
  return nfa.alt(options);
}

}  // namespace

void CodePointSet::add(uint32_t lo, uint32_t hi) {
  if (lo > hi) return;
  ranges_.push_back({lo, hi});
  std::sort(ranges_.begin(), ranges_.end(), [](auto a, auto b) { return a.lo < b.lo; });
  std::vector<CodePointRange> merged;
  for (auto r : ranges_) {
    if (!merged.empty() && r.lo <= merged.back().hi + 1) {
      merged.back().hi = std::max(merged.back().hi, r.hi);
    } else {
      merged.push_back(r);
    }
  }
  ranges_ = std::move(merged);
}

void CodePointSet::add(const CodePointSet& other) {
  for (auto r : other.ranges_) add(r.lo, r.hi);
}

void CodePointSet::remove(uint32_t lo, uint32_t hi) {
  std::vector<CodePointRange> out;
  for (auto r : ranges_) {
    if (r.hi < lo || r.lo > hi) {
      out.push_back(r);
      continue;
    }
    if (r.lo < lo) out.push_back({r.lo, lo - 1});
    if (r.hi > hi) out.push_back({hi + 1, r.hi});
  }
  ranges_ = std::move(out);
}

CodePointSet CodePointSet::complement() const {
  CodePointSet out;
  uint32_t next = 0;
  for (auto r : ranges_) {
    if (r.lo > next) out.ranges_.push_back({next, r.lo - 1});
    next = r.hi + 1;
  }
  if (next <= kMaxCodePoint) out.ranges_.push_back({next, kMaxCodePoint});
  out.remove(0xD800, 0xDFFF);
  return out;
}

NfaFragment utf8_fragment(ByteNfa& nfa, const CodePointSet& set) {
  ByteSet ascii;
  std::vector<NfaFragment> options;
  static constexpr uint32_t kLengthEnds[] = {0x7F, 0x7FF, 0xFFFF, kMaxCodePoint};
  for (auto r : set.ranges()) {
    r.hi = std::min(r.hi, kMaxCodePoint);
    uint32_t lo = r.lo;
    for (uint32_t end : kLengthEnds) {
      if (lo > r.hi) break;
      if (lo > end) continue;
      const uint32_t hi = std::min(r.hi, end);
      if (hi < 0x80) {
        for (uint32_t c = lo; c <= hi; ++c) ascii.set(c);
      } else {
        // Surrogates are not characters; split them out of a 3-byte range.
        std::vector<std::pair<uint32_t, uint32_t>> pieces;
        if (lo <= 0xDFFF && hi >= 0xD800) {
          if (lo < 0xD800) pieces.push_back({lo, 0xD7FF});
          if (hi > 0xDFFF) pieces.push_back({0xE000, hi});
        } else {
          pieces.push_back({lo, hi});
        }
        for (auto [a, b] : pieces) {
          uint8_t ea[4], eb[4];
          const int len = encode(a, ea);
          encode(b, eb);
          options.push_back(encoded_range(nfa, std::vector<uint8_t>(ea, ea + len), std::vector<uint8_t>(eb, eb + len), 0));
        }
      }
      lo = hi + 1;
    }
  }
  if (ascii.any()) options.push_back(nfa.byte_set(ascii));
  return nfa.alt(options);
}

}  // namespace pagedllm
