// Timing of WeightMatrix::matmul for `pagedllm bench` and bench/kernels_bench.cc (never used in tests).
#pragma once

#include <cstdint>

#include "kernels/weight_matrix.h"

namespace pagedllm {

struct MatmulBenchResult {
  double seconds;       // best wall time of one call
  double weight_gbs;    // weight bytes streamed per second of `seconds` (the decode figure of merit)
  double gflops;        // 2·n_rows·n_out·n_in per second of `seconds` (the prefill figure of merit)
};

// Times y = x·Wᵀ (or dx = dy·W when backward) for a random (n_out, n_in) matrix in `format` and n_rows rows,
// best of `repetitions` calls after one warm-up call
// (on a shared machine, many short repetitions catch the unloaded rate).
MatmulBenchResult bench_matmul(WeightFormat format, int64_t n_out, int64_t n_in, int64_t n_rows, int repetitions,
                               bool backward = false);

}  // namespace pagedllm
