// The AVX-512 FMA-peak loop of the roofline (compiled with -mavx512f; enter only when has_avx512()).
#pragma once

#include <cstdint>

namespace pagedllm::avx512 {

// 12 independent chains of 16-wide FMAs: 384 flops per iteration.
float fma_chains(int64_t iterations);

}  // namespace pagedllm::avx512
