// AVX2 building blocks shared by every library's x86 kernels (kernels/x86_avx2, quant/x86_avx2, quant/x86_avx512):
// loading 8 weights of any dense format as fp32, horizontal sums and a vector exp. The one home of such helpers:
// kernels/simd/ is the part of kernels/ that other libraries may include. Include only from translation units
// compiled with at least -mavx2 -mfma -mf16c.
#pragma once

#include <immintrin.h>

#include <cstdint>

#include "util/half.h"

namespace pagedllm::avx2 {

struct F32Elem {
  using Storage = float;
  static __m256 load8(const float* p) { return _mm256_loadu_ps(p); }
  static float load1(const float* p) { return *p; }
};

struct F16Elem {
  using Storage = uint16_t;
  static __m256 load8(const uint16_t* p) {
    return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  }
  static float load1(const uint16_t* p) { return _cvtsh_ss(*p); }
};

struct BF16Elem {
  using Storage = uint16_t;
  // bf16 is the top half of an fp32: widen to 32 bits and shift into place (exact).
  static __m256 load8(const uint16_t* p) {
    __m256i wide = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
    return _mm256_castsi256_ps(_mm256_slli_epi32(wide, 16));
  }
  static float load1(const uint16_t* p) { return bf16_to_f32(*p); }
};

inline float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

inline float hmax(__m256 v) {
  __m128 s = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_max_ps(s, _mm_movehl_ps(s, s));
  s = _mm_max_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

// e^x, within 2 ulp of the correctly rounded value on [-87.3, 88.7] (Cephes expf scheme: x = n·ln2 + r with
// |r| ≤ ln2/2 split in two constants for an exact reduction, degree-6 polynomial for e^r, 2^n built in the
// exponent). Returns +inf above 88.72, 0 below -87.33 (where fp32 results are subnormal), 0 for -inf.
inline __m256 exp256(__m256 x) {
  const __m256 hi = _mm256_set1_ps(88.7228391117f);  // ln(FLT_MAX)
  const __m256 lo = _mm256_set1_ps(-87.3365447504f);  // ln(FLT_MIN)
  __m256 is_overflow = _mm256_cmp_ps(x, hi, _CMP_GT_OQ);
  __m256 is_underflow = _mm256_cmp_ps(x, lo, _CMP_LT_OQ);
  __m256 xc = _mm256_min_ps(_mm256_max_ps(x, lo), hi);
  __m256 fx = _mm256_round_ps(_mm256_mul_ps(xc, _mm256_set1_ps(1.44269504088896341f)),
                              _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256 r = _mm256_fnmadd_ps(fx, _mm256_set1_ps(0.693359375f), xc);
  r = _mm256_fnmadd_ps(fx, _mm256_set1_ps(-2.12194440e-4f), r);
  __m256 p = _mm256_set1_ps(1.9875691500e-4f);
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507e-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073e-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894e-2f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459e-1f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201e-1f));
  __m256 r2 = _mm256_mul_ps(r, r);
  __m256 y = _mm256_add_ps(_mm256_fmadd_ps(p, r2, r), _mm256_set1_ps(1.0f));
  // n ∈ [-126, 128] after the clamp; 2^128 is not a float, so it is applied as 2^min(n, 127) · 2^(n - min(n, 127)).
  __m256i n = _mm256_cvtps_epi32(fx);
  __m256i n_low = _mm256_min_epi32(n, _mm256_set1_epi32(127));
  const __m256i bias = _mm256_set1_epi32(127);
  __m256 pow2_low = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n_low, bias), 23));
  __m256 pow2_rest = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(_mm256_sub_epi32(n, n_low), bias), 23));
  y = _mm256_mul_ps(_mm256_mul_ps(y, pow2_low), pow2_rest);
  y = _mm256_blendv_ps(y, _mm256_set1_ps(__builtin_inff()), is_overflow);
  return _mm256_andnot_ps(is_underflow, y);
}

}  // namespace pagedllm::avx2
