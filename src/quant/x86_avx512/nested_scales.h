// AVX-512 decoding of double-quantized block constants (quant/block_scales.h), entered only after has_avx512().
#pragma once

#include <cstdint>

namespace pagedllm::avx512 {

// out[i] = table[codes[i]] · nested_max + offset for i < n, rounded as the scalar loop rounds it (an fp32 product,
// then an fp32 sum; never fused), so the results are bit for bit BlockScales::scale's.
void decode_nested_scales(const uint8_t* codes, const float* table, float nested_max, float offset, int64_t n,
                          float* out);

}  // namespace pagedllm::avx512
