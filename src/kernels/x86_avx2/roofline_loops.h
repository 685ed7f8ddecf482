// The AVX2 loops behind measure_roofline (kernels/roofline.h); only call after has_avx2_fma_f16c().
#pragma once

#include <cstdint>

namespace pagedllm::avx2 {

// Σ x[i] for i < n, streaming with independent vector accumulators (bandwidth bound, not latency bound).
float stream_sum(const float* x, int64_t n);

// Runs `iterations` steps of 12 independent 8-wide FMA chains (192 flops per step); returns a value that depends
// on all of them so the work cannot be optimized away.
float fma_chains(int64_t iterations);

}  // namespace pagedllm::avx2
