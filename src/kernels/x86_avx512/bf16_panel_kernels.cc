// GCC 12's AVX-512 headers initialise their "undefined" vectors from themselves, which -Wall reports once per
// intrinsic use (GCC bug 105593); nothing here reads an undefined value.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#include "kernels/x86_avx512/bf16_panel_kernels.h"

#include <immintrin.h>

#include <algorithm>

#include "kernels/bf16_panels.h"
#include "kernels/x86_avx512/bf16_pairs.h"

namespace pagedllm::avx512 {
namespace {

constexpr int64_t kCols = kBf16PanelColumns;
// Pairs ahead to prefetch: a panel is one contiguous stream, but the hardware prefetchers stop at page boundaries.
constexpr int64_t kPrefetchPairs = 16;

// G rows of x against one panel's 32 rows of W: out[g][lane] for the panel's lanes (low 16, high 16). Each pair of
// inputs widens the panel's words once: the low halves (even inputs) shifted into place, the high halves (odd
// inputs) masked; even and odd products go to separate accumulators, added at the end.
template <int G>
inline void panel_tile(const uint32_t* panel, int64_t n_in, const float* x, __mmask16 mask_lo, __mmask16 mask_hi,
                       float* y, int64_t ldy) {
  const int64_t full_pairs = n_in / 2;
  __m512 even[G][2], odd[G][2];
#pragma GCC unroll 4
  for (int g = 0; g < G; ++g) even[g][0] = even[g][1] = odd[g][0] = odd[g][1] = _mm512_setzero_ps();
  int64_t q = 0;
  for (; q < full_pairs; ++q) {
    const uint32_t* words = panel + q * kCols;
    _mm_prefetch(reinterpret_cast<const char*>(words + kPrefetchPairs * kCols), _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char*>(words + kPrefetchPairs * kCols + 16), _MM_HINT_T0);
    const __m512i w0 = _mm512_loadu_si512(words), w1 = _mm512_loadu_si512(words + 16);
    const __m512 e0 = bf16_pair_low(w0), e1 = bf16_pair_low(w1), o0 = bf16_pair_high(w0), o1 = bf16_pair_high(w1);
#pragma GCC unroll 4
    for (int g = 0; g < G; ++g) {
      const __m512 xe = _mm512_set1_ps(x[g * n_in + 2 * q]), xo = _mm512_set1_ps(x[g * n_in + 2 * q + 1]);
      even[g][0] = _mm512_fmadd_ps(e0, xe, even[g][0]);
      even[g][1] = _mm512_fmadd_ps(e1, xe, even[g][1]);
      odd[g][0] = _mm512_fmadd_ps(o0, xo, odd[g][0]);
      odd[g][1] = _mm512_fmadd_ps(o1, xo, odd[g][1]);
    }
  }
  if (n_in % 2 != 0) {  // the last input alone: its pair's high halves are zero padding
    const uint32_t* words = panel + q * kCols;
    const __m512 e0 = bf16_pair_low(_mm512_loadu_si512(words));
    const __m512 e1 = bf16_pair_low(_mm512_loadu_si512(words + 16));
#pragma GCC unroll 4
    for (int g = 0; g < G; ++g) {
      const __m512 xe = _mm512_set1_ps(x[g * n_in + 2 * q]);
      even[g][0] = _mm512_fmadd_ps(e0, xe, even[g][0]);
      even[g][1] = _mm512_fmadd_ps(e1, xe, even[g][1]);
    }
  }
#pragma GCC unroll 4
  for (int g = 0; g < G; ++g) {
    _mm512_mask_storeu_ps(y + g * ldy, mask_lo, _mm512_add_ps(even[g][0], odd[g][0]));
    _mm512_mask_storeu_ps(y + g * ldy + 16, mask_hi, _mm512_add_ps(even[g][1], odd[g][1]));
  }
}

}  // namespace

void bf16_panels_matmul_rows(const uint32_t* panels, int64_t n_in, int64_t row_begin, int64_t row_end,
                             const float* x, int64_t n_rows, float* y, int64_t ldy) {
  if (row_begin >= row_end || n_rows <= 0) return;
  const int64_t pairs = bf16_panel_pairs(n_in);
  for (int64_t panel = row_begin / kCols; panel * kCols < row_end; ++panel) {
    // Only the lanes in [row_begin, row_end) are stored: another task may own the panel's other rows.
    const int64_t o0 = panel * kCols, lo = std::max(row_begin, o0) - o0, hi = std::min(row_end, o0 + kCols) - o0;
    const uint32_t lanes = static_cast<uint32_t>((uint64_t{1} << hi) - (uint64_t{1} << lo));
    const auto mask_lo = static_cast<__mmask16>(lanes), mask_hi = static_cast<__mmask16>(lanes >> 16);
    const uint32_t* words = panels + panel * pairs * kCols;
    int64_t r = 0;
    for (; r + 4 <= n_rows; r += 4) panel_tile<4>(words, n_in, x + r * n_in, mask_lo, mask_hi, y + r * ldy + o0, ldy);
    switch (n_rows - r) {
      case 3: panel_tile<3>(words, n_in, x + r * n_in, mask_lo, mask_hi, y + r * ldy + o0, ldy); break;
      case 2: panel_tile<2>(words, n_in, x + r * n_in, mask_lo, mask_hi, y + r * ldy + o0, ldy); break;
      case 1: panel_tile<1>(words, n_in, x + r * n_in, mask_lo, mask_hi, y + r * ldy + o0, ldy); break;
      default: break;
    }
  }
}

}  // namespace pagedllm::avx512
