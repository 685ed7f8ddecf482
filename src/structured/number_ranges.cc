#include "structured/number_ranges.h"

#include <string>
#include <vector>

namespace pagedllm {
namespace {

// Digit strings of one length from lo[i..] to hi[i..] inclusive.
NfaFragment digits_between(ByteNfa& nfa, const std::string& lo, const std::string& hi, size_t i) {
  const size_t n = lo.size();
  if (i + 1 == n) return nfa.byte_range(lo[i], hi[i]);
  if (lo[i] == hi[i]) return nfa.seq(nfa.byte_range(lo[i], lo[i]), digits_between(nfa, lo, hi, i + 1));
  auto any_digits = [&]() {
    std::vector<NfaFragment> parts;
    for (size_t k = i + 1; k < n; ++k) parts.push_back(nfa.byte_range('0', '9'));
    return nfa.seq(parts);
  };
  const bool lo_min = lo.find_first_not_of('0', i + 1) == std::string::npos;
  const bool hi_max = hi.find_first_not_of('9', i + 1) == std::string::npos;
  std::vector<NfaFragment> options;
  char mid_lo = lo[i], mid_hi = hi[i];
  if (!lo_min) {
    const std::string top = lo.substr(0, i + 1) + std::string(n - i - 1, '9');
    options.push_back(nfa.seq(nfa.byte_range(lo[i], lo[i]), digits_between(nfa, lo, top, i + 1)));
    ++mid_lo;
  }
  if (!hi_max) {
    const std::string bottom = hi.substr(0, i + 1) + std::string(n - i - 1, '0');
    options.push_back(nfa.seq(nfa.byte_range(hi[i], hi[i]), digits_between(nfa, bottom, hi, i + 1)));
    --mid_hi;
  }
  if (mid_lo <= mid_hi) options.push_back(nfa.seq(nfa.byte_range(mid_lo, mid_hi), any_digits()));
  return nfa.alt(options);
}

// Non-negative integers in [lo, hi] (hi absent: unbounded).
NfaFragment non_negative_range(ByteNfa& nfa, uint64_t lo, std::optional<uint64_t> hi) {
  if (hi && *hi < lo) return nfa.alt({});
  std::vector<NfaFragment> options;
  const std::string lo_s = std::to_string(lo);
  const size_t max_len = hi ? std::to_string(*hi).size() : lo_s.size();
  for (size_t len = lo_s.size(); len <= max_len; ++len) {
    const std::string from = len == lo_s.size() ? lo_s : "1" + std::string(len - 1, '0');
    const std::string to = hi && len == max_len ? std::to_string(*hi) : std::string(len, '9');
    options.push_back(digits_between(nfa, from, to, 0));
  }
  if (!hi) {
    // Every longer number: a non-zero digit and at least lo_s.size() more.
    options.push_back(nfa.seq(nfa.byte_range('1', '9'),
                              nfa.repeat([&] { return nfa.byte_range('0', '9'); }, int(lo_s.size()), -1)));
  }
  return nfa.alt(options);
}

uint64_t magnitude(int64_t v) { return v < 0 ? uint64_t(0) - uint64_t(v) : uint64_t(v); }

}  // namespace

NfaFragment integer_range(ByteNfa& nfa, std::optional<int64_t> lo, std::optional<int64_t> hi) {
  if (lo && hi && *lo > *hi) return nfa.alt({});
  std::vector<NfaFragment> options;
  // Negative part: -m for m in [max(1, -hi), -lo].
  if (!lo || *lo < 0) {
    const uint64_t m_lo = hi && *hi < 0 ? magnitude(*hi) : 1;
    std::optional<uint64_t> m_hi;
    if (lo) m_hi = magnitude(*lo);
    options.push_back(nfa.seq(nfa.literal("-"), non_negative_range(nfa, m_lo, m_hi)));
  }
  if (!hi || *hi >= 0) {
    std::optional<uint64_t> upper;
    if (hi) upper = uint64_t(*hi);
    options.push_back(non_negative_range(nfa, lo && *lo > 0 ? uint64_t(*lo) : 0, upper));
  }
  return nfa.alt(options);
}

}  // namespace pagedllm
