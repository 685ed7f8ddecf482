#include "bench/bench_stats.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace pagedllm {

double percentile(std::vector<double> values, double q) {
  if (values.empty()) return 0.0;
  std::sort(values.begin(), values.end());
  double rank = q / 100.0 * static_cast<double>(values.size() - 1);
  size_t below = static_cast<size_t>(std::floor(rank));
  size_t above = std::min(below + 1, values.size() - 1);
  double fraction = rank - static_cast<double>(below);
  return values[below] + (values[above] - values[below]) * fraction;
}

double mean(const std::vector<double>& values) {
  if (values.empty()) return 0.0;
  return std::accumulate(values.begin(), values.end(), 0.0) / static_cast<double>(values.size());
}

LatencySummary summarize_seconds(const std::vector<double>& seconds) {
  return {mean(seconds) * 1000.0, percentile(seconds, 50.0) * 1000.0, percentile(seconds, 99.0) * 1000.0};
}

}  // namespace pagedllm
