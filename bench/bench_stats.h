// Latency statistics of `pagedllm bench serve`, computed as vLLM's benchmark_serving does (numpy's mean, median and
// linearly interpolated percentiles).
#pragma once

#include <vector>

namespace pagedllm {

// q in [0, 100]; linear interpolation between closest ranks (numpy.percentile's default). 0 for no values.
double percentile(std::vector<double> values, double q);
double mean(const std::vector<double>& values);

struct LatencySummary {
  double mean_ms = 0.0;
  double median_ms = 0.0;
  double p99_ms = 0.0;
};

LatencySummary summarize_seconds(const std::vector<double>& seconds);

}  // namespace pagedllm
