#include "kernels/x86_avx2/kv_convert.h"

#include <immintrin.h>

#include <cstring>
#include <limits>

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

// E4M3 by integer arithmetic on its 7 magnitude bits: a normal code moved to the top of an fp32's exponent and
// mantissa fields with the exponent rebiased (+120); a subnormal (exponent field 0) is its 3 mantissa bits · 2⁻⁹,
// converted from an integer. Both exact, and no fp32 subnormal is ever an operand (those are slow on some cores).
// S.1111.111 is NaN. Then the same single fp32 multiply by the scale as the portable loop, so the results are
// identical.
void e4m3_to_f32(const uint8_t* src, float* dst, int64_t n, float scale) {
  const __m256 vscale = _mm256_set1_ps(scale);
  const __m256i magnitude = _mm256_set1_epi32(0x7F);
  const __m256i rebias = _mm256_set1_epi32(120 << 23);
  const __m256i first_normal = _mm256_set1_epi32(0x08);
  const __m256 subnormal_unit = _mm256_set1_ps(0x1.0p-9f);
  const __m256 nan = _mm256_set1_ps(std::numeric_limits<float>::quiet_NaN());
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    __m256i code = _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(src + i)));
    __m256i mag = _mm256_and_si256(code, magnitude);
    __m256i sign = _mm256_slli_epi32(_mm256_andnot_si256(magnitude, code), 24);
    __m256 normal = _mm256_castsi256_ps(_mm256_add_epi32(_mm256_slli_epi32(mag, 20), rebias));
    __m256 subnormal = _mm256_mul_ps(_mm256_cvtepi32_ps(mag), subnormal_unit);
    __m256 value = _mm256_blendv_ps(normal, subnormal, _mm256_castsi256_ps(_mm256_cmpgt_epi32(first_normal, mag)));
    value = _mm256_blendv_ps(value, nan, _mm256_castsi256_ps(_mm256_cmpeq_epi32(mag, magnitude)));
    value = _mm256_or_ps(value, _mm256_castsi256_ps(sign));
    _mm256_storeu_ps(dst + i, _mm256_mul_ps(value, vscale));
  }
  for (; i < n; ++i) dst[i] = fp8_e4m3_to_f32(src[i]) * scale;
}

// E5M2 is the top byte of an IEEE half: shift it there and let F16C widen it (exact, infinities and NaN included).
void e5m2_to_f32(const uint8_t* src, float* dst, int64_t n, float scale) {
  const __m256 vscale = _mm256_set1_ps(scale);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    __m128i halves = _mm_slli_epi16(_mm_cvtepu8_epi16(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(src + i))), 8);
    _mm256_storeu_ps(dst + i, _mm256_mul_ps(_mm256_cvtph_ps(halves), vscale));
  }
  for (; i < n; ++i) dst[i] = fp8_e5m2_to_f32(src[i]) * scale;
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
      e4m3_to_f32(static_cast<const uint8_t*>(src), dst, n, scale);
      return;
    case KVCacheDType::kFp8E5M2:
      e5m2_to_f32(static_cast<const uint8_t*>(src), dst, n, scale);
      return;
  }
}

}  // namespace pagedllm::avx2
