#include "kernels/x86_avx2/kv_convert.h"

#include <immintrin.h>

#include <cstring>

#include "kernels/fp8.h"
#include "util/half.h"

namespace pagedllm::avx2 {
namespace {

// bf16 is the top half of an fp32: zero-extend to 32 bits and shift into place (exact).
void bf16_to_f32(const uint16_t* src, float* dst, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    __m256i wide = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i)));
    _mm256_storeu_ps(dst + i, _mm256_castsi256_ps(_mm256_slli_epi32(wide, 16)));
  }
  for (; i < n; ++i) dst[i] = pagedllm::bf16_to_f32(src[i]);
}

// Eight codes at a time looked up in the 256-entry table with a gather, then scaled (the same single fp32
// multiply as the portable loop, so the results are identical).
void fp8_to_f32(const uint8_t* src, float* dst, int64_t n, const float* table, float scale) {
  const __m256 vscale = _mm256_set1_ps(scale);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    __m256i idx = _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(src + i)));
    _mm256_storeu_ps(dst + i, _mm256_mul_ps(_mm256_i32gather_ps(table, idx, 4), vscale));
  }
  for (; i < n; ++i) dst[i] = table[src[i]] * scale;
}

}  // namespace

void kv_to_f32(const void* src, float* dst, int64_t n, KVCacheDType dtype, float scale) {
  switch (dtype) {
    case KVCacheDType::kFloat32:
      std::memcpy(dst, src, static_cast<size_t>(n) * sizeof(float));
      return;
    case KVCacheDType::kBFloat16:
      bf16_to_f32(static_cast<const uint16_t*>(src), dst, n);
      return;
    case KVCacheDType::kFp8E4M3:
      fp8_to_f32(static_cast<const uint8_t*>(src), dst, n, fp8_e4m3_table(), scale);
      return;
    case KVCacheDType::kFp8E5M2:
      fp8_to_f32(static_cast<const uint8_t*>(src), dst, n, fp8_e5m2_table(), scale);
      return;
  }
}

}  // namespace pagedllm::avx2
