// `pagedllm bench serve`: vLLM's benchmark_serving against a running OpenAI-compatible server.
//
// Sends num_prompts streaming /v1/completions requests of input_len random token ids and max_tokens = output_len
// (ignore_eos, greedy), arriving as a Poisson process of request_rate per second (infinity: all at once), and
// measures per request the time to the first token (TTFT), the gaps between streamed chunks (ITL) and
// TPOT = (latency - TTFT) / (output tokens - 1). Prints vLLM's report; a progress bar goes to stderr.
#pragma once

#include <cstdint>
#include <limits>
#include <string>

#include "bench/bench_stats.h"

namespace pagedllm {

struct BenchServeConfig {
  std::string base_url = "http://127.0.0.1:8000";
  std::string model;  // empty: the first model of GET /v1/models
  int num_prompts = 64;
  double request_rate = std::numeric_limits<double>::infinity();  // requests per second
  int input_len = 128;
  int output_len = 128;
  uint64_t seed = 0;
  int max_token_id = 500;  // prompt ids are drawn from [10, max_token_id): valid for any vocabulary of 500+
  std::string api_key;
  bool show_progress = true;
};

struct BenchServeResult {
  int num_completed = 0;
  int num_failed = 0;
  double duration_s = 0.0;
  int64_t total_input_tokens = 0;
  int64_t total_output_tokens = 0;
  double request_throughput = 0.0;  // completed requests per second
  double output_throughput = 0.0;   // generated tokens per second
  double total_token_throughput = 0.0;
  LatencySummary ttft, tpot, itl, e2el;
};

// Runs the benchmark. Throws Error(kInvalidArgument) for a bad configuration, Error(kIo) when the server cannot
// be reached to find the model.
BenchServeResult bench_serve(const BenchServeConfig& config);

// vLLM's "Serving Benchmark Result" block.
std::string format_bench_report(const BenchServeResult& result);

// bench_serve + the report on stdout; 0 when every request completed, 1 otherwise.
int run_bench_serve(const BenchServeConfig& config);

}  // namespace pagedllm
