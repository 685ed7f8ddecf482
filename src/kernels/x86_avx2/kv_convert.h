// AVX2 widening of KV cache rows to fp32; only call after has_avx2_fma_f16c() (kernels/cpu_features.h).
// Same contract and results, bit for bit, as kv_to_f32 in kernels/kv_convert.h (NaN payloads aside).
#pragma once

#include <cstdint>

#include "kernels/kv_cache_dtype.h"

namespace pagedllm::avx2 {

void kv_to_f32(const void* src, float* dst, int64_t n, KVCacheDType dtype, float scale);

}  // namespace pagedllm::avx2
