#include "bench/bench_stats.h"

#include <gtest/gtest.h>

namespace pagedllm {
namespace {

TEST(BenchStatsTest, PercentileInterpolatesLikeNumpy) {
  std::vector<double> values = {4.0, 1.0, 3.0, 2.0};
  EXPECT_DOUBLE_EQ(percentile(values, 0), 1.0);
  EXPECT_DOUBLE_EQ(percentile(values, 50), 2.5);    // numpy.percentile([1,2,3,4], 50)
  EXPECT_DOUBLE_EQ(percentile(values, 99), 3.97);   // 3 + 0.97 * (4 - 3)
  EXPECT_DOUBLE_EQ(percentile(values, 100), 4.0);
  EXPECT_DOUBLE_EQ(percentile({}, 50), 0.0);
}

TEST(BenchStatsTest, SummaryIsInMilliseconds) {
  LatencySummary s = summarize_seconds({0.010, 0.020, 0.030});
  EXPECT_DOUBLE_EQ(s.mean_ms, 20.0);
  EXPECT_DOUBLE_EQ(s.median_ms, 20.0);
  EXPECT_NEAR(s.p99_ms, 29.8, 1e-9);  // 20 + 0.98 * 10, up to rounding of the binary fractions
}

}  // namespace
}  // namespace pagedllm
