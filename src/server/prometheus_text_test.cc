#include "server/prometheus_text.h"

#include <gtest/gtest.h>

namespace pagedllm {
namespace {

TEST(PrometheusTextTest, WritesGaugesCountersAndCumulativeHistograms) {
  EngineStats stats;
  stats.num_requests_running = 3;
  stats.num_requests_waiting = 1;
  stats.kv_cache_usage = 0.25;
  stats.prompt_tokens_total = 100;
  stats.generation_tokens_total = 42;
  stats.num_preemptions_total = 2;
  stats.request_success_total = {{"stop", 5}, {"repetition", 1}};
  stats.prefix_cache_queries_total = 64;
  stats.prefix_cache_hits_total = 16;
  stats.e2e_request_latency_seconds = {{0.5, 1.0}, {1, 3}, 4, 7.5};
  std::string text = prometheus_text(stats, "m\"x");
  const char* expected_lines[] = {
      "# TYPE vllm:num_requests_running gauge\nvllm:num_requests_running{model_name=\"m\\\"x\"} 3\n",
      "vllm:num_requests_waiting{model_name=\"m\\\"x\"} 1\n",
      "vllm:kv_cache_usage_perc{model_name=\"m\\\"x\"} 0.25\n",
      "# TYPE vllm:prompt_tokens counter\nvllm:prompt_tokens_total{model_name=\"m\\\"x\"} 100\n",
      "vllm:generation_tokens_total{model_name=\"m\\\"x\"} 42\n",
      "vllm:num_preemptions_total{model_name=\"m\\\"x\"} 2\n",
      "vllm:prefix_cache_queries_total{model_name=\"m\\\"x\"} 64\n",
      "vllm:prefix_cache_hits_total{model_name=\"m\\\"x\"} 16\n",
      "vllm:request_success_total{finished_reason=\"abort\",model_name=\"m\\\"x\"} 0\n"
      "vllm:request_success_total{finished_reason=\"length\",model_name=\"m\\\"x\"} 0\n"
      "vllm:request_success_total{finished_reason=\"repetition\",model_name=\"m\\\"x\"} 1\n"
      "vllm:request_success_total{finished_reason=\"stop\",model_name=\"m\\\"x\"} 5\n",
      "# TYPE vllm:e2e_request_latency_seconds histogram\n"
      "vllm:e2e_request_latency_seconds_bucket{le=\"0.5\",model_name=\"m\\\"x\"} 1\n"
      "vllm:e2e_request_latency_seconds_bucket{le=\"1\",model_name=\"m\\\"x\"} 3\n"
      "vllm:e2e_request_latency_seconds_bucket{le=\"+Inf\",model_name=\"m\\\"x\"} 4\n"
      "vllm:e2e_request_latency_seconds_count{model_name=\"m\\\"x\"} 4\n"
      "vllm:e2e_request_latency_seconds_sum{model_name=\"m\\\"x\"} 7.5\n",
      "vllm:time_to_first_token_seconds_bucket{le=\"+Inf\",model_name=\"m\\\"x\"} 0\n",
      "vllm:inter_token_latency_seconds_count{model_name=\"m\\\"x\"} 0\n",
  };
  for (const char* expected : expected_lines) EXPECT_NE(text.find(expected), std::string::npos) << expected;
}

}  // namespace
}  // namespace pagedllm
