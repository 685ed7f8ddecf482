// Decode-speed measurement of the quantized formats for `pagedllm bench` (never called by tests): how many weight
// bytes per second a matmul with few input rows streams, against the machine's read bandwidth.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "quant/quantize.h"

namespace pagedllm {

struct QuantGemvBenchResult {
  WeightFormat format;
  bool double_quant = false;
  int64_t n_out = 0;
  int64_t n_in = 0;
  int64_t n_rows = 0;
  size_t weight_bytes = 0;      // num_bytes() of one matrix: packed weights + constants
  double seconds_per_call = 0;  // median over the timed calls
  double gb_per_s = 0;          // weight_bytes / seconds_per_call / 1e9
};

// Quantizes a random N(0, 0.02) (n_out, n_in) matrix with `config` into enough copies to exceed the last-level cache
// (so every call streams from memory), then times num_calls matmuls of n_rows rows, cycling through the copies.
QuantGemvBenchResult bench_quant_gemv(const QuantConfig& config, int64_t n_out, int64_t n_in, int64_t n_rows,
                                      int num_calls);

// Sustained read bandwidth in GB/s: all pool threads sum a num_bytes buffer; best of num_passes passes.
double measure_read_bandwidth_gb_per_s(size_t num_bytes, int num_passes);

// One line: "NF4+DQ 2048x5632 rows=1: 5.95 MB, 0.312 ms, 19.1 GB/s (78% of 24.5 GB/s)".
std::string format_bench_result(const QuantGemvBenchResult& result, double bandwidth_gb_per_s);

// The standard table for `pagedllm bench`: a read-bandwidth line, then NF4, NF4+DQ, INT8, Q8_0 and F32 at
// 2048x5632 and 5632x2048 (TinyLlama's MLP shapes) with n_rows input rows, one line each.
std::vector<std::string> quant_gemv_bench_report(int64_t n_rows, int num_calls);

}  // namespace pagedllm
