#include "structured/number_ranges.h"

#include <gtest/gtest.h>

#include <string>

#include "structured/byte_dfa.h"
#include "util/error.h"

namespace pagedllm {
namespace {

ByteDfa range_dfa(std::optional<int64_t> lo, std::optional<int64_t> hi) {
  ByteNfa nfa;
  NfaFragment f = integer_range(nfa, lo, hi);
  return ByteDfa(nfa, f);
}

// Exactly the canonical spellings of the integers in range, checked over every integer in [-1200, 1200] and
// against a few non-canonical spellings.
TEST(IntegerRange, AcceptsExactlyTheCanonicalIntegersInRange) {
  const std::vector<std::pair<std::optional<int64_t>, std::optional<int64_t>>> ranges = {
      {0, 0}, {0, 9}, {7, 7}, {5, 123}, {-17, 45}, {-999, -10}, {10, 1000}, {std::nullopt, 12},
      {-3, std::nullopt}, {100, std::nullopt}, {std::nullopt, -101}, {std::nullopt, std::nullopt}, {1, 1099},
  };
  for (auto [lo, hi] : ranges) {
    ByteDfa dfa = range_dfa(lo, hi);
    for (int64_t v = -1200; v <= 1200; ++v) {
      const bool in = (!lo || v >= *lo) && (!hi || v <= *hi);
      EXPECT_EQ(dfa.matches(std::to_string(v)), in) << v << " in [" << lo.value_or(-99999) << "," << hi.value_or(99999) << "]";
    }
    for (const std::string bad : {"007", "-0", "+5", "", "-", "1.0", "00"}) EXPECT_FALSE(dfa.matches(bad)) << bad;
  }
}

TEST(IntegerRange, HandlesTheInt64Extremes) {
  ByteDfa dfa = range_dfa(INT64_MIN, INT64_MAX);
  EXPECT_TRUE(dfa.matches("-9223372036854775808"));
  EXPECT_TRUE(dfa.matches("9223372036854775807"));
  EXPECT_FALSE(dfa.matches("9223372036854775808"));
  EXPECT_FALSE(dfa.matches("-9223372036854775809"));
}

TEST(IntegerRange, AnEmptyRangeMatchesNothing) {
  ByteNfa nfa;
  NfaFragment f = integer_range(nfa, 5, 4);
  EXPECT_THROW(ByteDfa dfa(nfa, f), Error);
}

}  // namespace
}  // namespace pagedllm
