// Rows of the KV cache to and from fp32, in every KVCacheDType: the portable conversions (the reference the AVX2
// widening in x86_avx2/kv_convert.h is tested against). fp8 stores value / scale and reads code · scale; the
// scale is ignored for float32 and bfloat16.
#pragma once

#include <cstdint>

#include "kernels/kv_cache_dtype.h"

namespace pagedllm {

// dst: n elements of `dtype`. Rounds to nearest-even (bf16, fp8), saturating for fp8 (kernels/fp8.h).
void f32_to_kv(const float* src, void* dst, int64_t n, KVCacheDType dtype, float scale);

// dst: n fp32 values, exact images of the stored codes (times scale for fp8).
void kv_to_f32(const void* src, float* dst, int64_t n, KVCacheDType dtype, float scale);

}  // namespace pagedllm
