// GCC 12's AVX-512 headers initialise their "undefined" vectors from themselves, which -Wall reports once per
// intrinsic use (GCC bug 105593); nothing here reads an undefined value.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#include "quant/x86_avx512/nested_scales.h"

#include <immintrin.h>

namespace pagedllm::avx512 {

void decode_nested_scales(const uint8_t* codes, const float* table, float nested_max, float offset, int64_t n,
                          float* out) {
  // The explicitly rounded forms: GCC may contract a plain _mm512_mul_ps and _mm512_add_ps into an FMA.
  constexpr int kRound = _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC;
  const __m512 scale = _mm512_set1_ps(nested_max), shift = _mm512_set1_ps(offset);
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m512i index = _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(codes + i)));
    const __m512 value = _mm512_i32gather_ps(index, table, 4);
    _mm512_storeu_ps(out + i, _mm512_add_round_ps(_mm512_mul_round_ps(value, scale, kRound), shift, kRound));
  }
  for (; i < n; ++i) {
    const __m128 value = _mm_set_ss(table[codes[i]]);
    out[i] = _mm_cvtss_f32(_mm_add_round_ss(_mm_mul_round_ss(value, _mm_set_ss(nested_max), kRound),
                                            _mm_set_ss(offset), kRound));
  }
}

}  // namespace pagedllm::avx512
