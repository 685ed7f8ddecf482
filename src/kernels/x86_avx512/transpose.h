// A 16 × 16 transpose of 32-bit lanes in registers, shared by the AVX-512 packing routines. Include only from
// translation units compiled for AVX-512 (x86_avx512/, x86_avx512_bf16/): an inline function emitted there must not
// be the copy the linker keeps for a portable caller.
#pragma once

#include <immintrin.h>

// GCC 12's AVX-512 headers initialise their "undefined" vectors from themselves, which -Wall reports once per
// intrinsic use (GCC bug 105593); nothing here reads an undefined value.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"

namespace pagedllm::avx512 {

// v[i][j] → v[j][i]: 32-bit, then 64-bit interleaves within 128-bit lanes, then two rounds of lane shuffles.
// Always inlined: called as a function, v[] would travel through memory twice.
__attribute__((always_inline)) inline void transpose_16x16(__m512 v[16]) {
  __m512 t[16];
  for (int k = 0; k < 8; ++k) {
    t[2 * k] = _mm512_unpacklo_ps(v[2 * k], v[2 * k + 1]);
    t[2 * k + 1] = _mm512_unpackhi_ps(v[2 * k], v[2 * k + 1]);
  }
  // u[4g + c], 128-bit lane L: rows 4g .. 4g + 3 of column 4L + c.
  __m512 u[16];
  for (int g = 0; g < 4; ++g) {
    const __m512d a = _mm512_castps_pd(t[4 * g]), b = _mm512_castps_pd(t[4 * g + 1]);
    const __m512d c = _mm512_castps_pd(t[4 * g + 2]), d = _mm512_castps_pd(t[4 * g + 3]);
    u[4 * g + 0] = _mm512_castpd_ps(_mm512_unpacklo_pd(a, c));
    u[4 * g + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(a, c));
    u[4 * g + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(b, d));
    u[4 * g + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(b, d));
  }
  for (int c = 0; c < 4; ++c) {
    const __m512 x0 = _mm512_shuffle_f32x4(u[c], u[4 + c], 0x44), x1 = _mm512_shuffle_f32x4(u[c], u[4 + c], 0xEE);
    const __m512 y0 = _mm512_shuffle_f32x4(u[8 + c], u[12 + c], 0x44);
    const __m512 y1 = _mm512_shuffle_f32x4(u[8 + c], u[12 + c], 0xEE);
    v[c] = _mm512_shuffle_f32x4(x0, y0, 0x88);
    v[4 + c] = _mm512_shuffle_f32x4(x0, y0, 0xDD);
    v[8 + c] = _mm512_shuffle_f32x4(x1, y1, 0x88);
    v[12 + c] = _mm512_shuffle_f32x4(x1, y1, 0xDD);
  }
}

}  // namespace pagedllm::avx512

#pragma GCC diagnostic pop
