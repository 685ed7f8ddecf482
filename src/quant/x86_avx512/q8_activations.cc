// Compiled with the AVX-512 flags of this folder (quant/CMakeLists.txt).
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#include "quant/x86_avx512/q8_activations.h"

#include <immintrin.h>

namespace pagedllm::avx512 {
namespace {

// 16 floats scaled, rounded to nearest even, clamped to ±127 and narrowed to int8 (exact: the values are integers
// in range).
inline __m128i levels_of(__m512 v, __m512 inverse) {
  const __m512 rounded = _mm512_roundscale_ps(_mm512_mul_ps(v, inverse), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  const __m512 clamped = _mm512_min_ps(_mm512_max_ps(rounded, _mm512_set1_ps(-127.0f)), _mm512_set1_ps(127.0f));
  return _mm512_cvtepi32_epi8(_mm512_cvtps_epi32(clamped));
}

}  // namespace

void make_q8_activations(const float* x, int64_t n_in, int64_t n_rows, Q8Order order, int8_t* xq, float* xd) {
  const int64_t groups = n_in / 32;
  // Gathers the even values of a group's two halves into the first 16 lanes, the odd ones into the last 16.
  const __m512i evens = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
  const __m512i odds = _mm512_set_epi32(31, 29, 27, 25, 23, 21, 19, 17, 15, 13, 11, 9, 7, 5, 3, 1);
  for (int64_t r = 0; r < n_rows; ++r) {
    for (int64_t g = 0; g < groups; ++g) {
      const float* v = x + r * n_in + 32 * g;
      __m512 lo = _mm512_loadu_ps(v), hi = _mm512_loadu_ps(v + 16);
      const float amax = _mm512_reduce_max_ps(_mm512_max_ps(_mm512_abs_ps(lo), _mm512_abs_ps(hi)));
      const float inverse = amax > 0.0f ? 127.0f / amax : 0.0f;
      if (order == Q8Order::kEvensThenOdds) {
        const __m512 e = _mm512_permutex2var_ps(lo, evens, hi), o = _mm512_permutex2var_ps(lo, odds, hi);
        lo = e;
        hi = o;
      }
      const __m512 inv = _mm512_set1_ps(inverse);
      int8_t* q = xq + r * n_in + 32 * g;
      _mm_storeu_si128(reinterpret_cast<__m128i*>(q), levels_of(lo, inv));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(q + 16), levels_of(hi, inv));
      xd[r * groups + g] = amax / 127.0f;
    }
  }
}

}  // namespace pagedllm::avx512
