// GCC 12's AVX-512 headers initialise their "undefined" vectors from themselves, which -Wall reports once per
// intrinsic use (GCC bug 105593); nothing here reads an undefined value.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#include "kernels/x86_avx512/dense_kernels.h"

#include <immintrin.h>

#include <utility>

#include "kernels/dense_elem_dispatch.h"
#include "util/error.h"

namespace pagedllm::avx512 {
namespace {

// 16 weights of each format as fp32 (exact): widen() of a full load, or of the first lanes of a row's tail
// (masked loads only there: a constant all-ones mask measured slower than a plain load).
struct F32Elem {
  using Storage = float;
  using Raw = __m512;
  static Raw load(const float* p) { return _mm512_loadu_ps(p); }
  static Raw load(const float* p, __mmask16 mask) { return _mm512_maskz_loadu_ps(mask, p); }
  static __m512 widen(Raw raw) { return raw; }
};

struct F16Elem {
  using Storage = uint16_t;
  using Raw = __m256i;
  static Raw load(const uint16_t* p) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)); }
  static Raw load(const uint16_t* p, __mmask16 mask) { return _mm256_maskz_loadu_epi16(mask, p); }
  static __m512 widen(Raw raw) { return _mm512_cvtph_ps(raw); }
};

struct BF16Elem {
  using Storage = uint16_t;
  using Raw = __m256i;
  static Raw load(const uint16_t* p) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)); }
  static Raw load(const uint16_t* p, __mmask16 mask) { return _mm256_maskz_loadu_epi16(mask, p); }
  // bf16 is the top half of an fp32: widen to 32 bits and shift into place.
  static __m512 widen(Raw raw) { return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(raw), 16)); }
};

template <class Fn>
void with_elem(WeightFormat format, Fn&& fn) {
  with_dense_elem<F32Elem, F16Elem, BF16Elem>(format, std::forward<Fn>(fn));
}

// RW rows of W against RX rows of x: y[j * ldy + i] = x[j, :] · W[i, :]. RW·RX ≤ 16 accumulators, RX x vectors
// and one W vector stay in the 32 zmm registers.
//
// While reading these RW rows the loop prefetches the next RW rows, one cache line of each per line consumed: a
// BF16 row of 2048 inputs is one 4 KiB page, and the hardware prefetchers stop at page boundaries.
template <class Elem, int RW, int RX>
inline void dot_tile(const typename Elem::Storage* w, int64_t n_in, const float* x, float* y, int64_t ldy) {
  constexpr int64_t kElemsPerLine = 64 / sizeof(typename Elem::Storage);
  const auto* next_tile = w + RW * n_in;
  __m512 acc[RW][RX];
#pragma GCC unroll 4
  for (int i = 0; i < RW; ++i) {
#pragma GCC unroll 4
    for (int j = 0; j < RX; ++j) acc[i][j] = _mm512_setzero_ps();
  }
  // One step of 16 inputs; `mask...` is empty for a full step, the tail's mask otherwise.
  auto step = [&](int64_t k, auto... mask) __attribute__((always_inline)) {
    __m512 xv[RX];
#pragma GCC unroll 4
    for (int j = 0; j < RX; ++j) xv[j] = F32Elem::load(x + j * n_in + k, mask...);
#pragma GCC unroll 4
    for (int i = 0; i < RW; ++i) {
      __m512 wv = Elem::widen(Elem::load(w + i * n_in + k, mask...));
#pragma GCC unroll 4
      for (int j = 0; j < RX; ++j) acc[i][j] = _mm512_fmadd_ps(wv, xv[j], acc[i][j]);
    }
  };
  int64_t k = 0;
  for (; k + 16 <= n_in; k += 16) {
    if (k % kElemsPerLine == 0) {
      // Kept a loop on purpose (see the AVX2 kernel): unrolled back to back, these prefetches cost ~15% of the
      // streaming rate on Zen 5.
#pragma GCC unroll 1
      for (int i = 0; i < RW; ++i) _mm_prefetch(reinterpret_cast<const char*>(next_tile + i * n_in + k), _MM_HINT_T0);
    }
    step(k);
  }
  if (k < n_in) step(k, __mmask16((1u << (n_in - k)) - 1));
  for (int i = 0; i < RW; ++i) {
    for (int j = 0; j < RX; ++j) y[j * ldy + i] = _mm512_reduce_add_ps(acc[i][j]);
  }
}

template <class Elem, int RW>
void dot_rows(const typename Elem::Storage* w, int64_t n_in, const float* x, int64_t n_rows, float* y, int64_t ldy) {
  int64_t r = 0;
  for (; r + 4 <= n_rows; r += 4) dot_tile<Elem, RW, 4>(w, n_in, x + r * n_in, y + r * ldy, ldy);
  switch (n_rows - r) {
    case 3: return dot_tile<Elem, RW, 3>(w, n_in, x + r * n_in, y + r * ldy, ldy);
    case 2: return dot_tile<Elem, RW, 2>(w, n_in, x + r * n_in, y + r * ldy, ldy);
    case 1: return dot_tile<Elem, RW, 1>(w, n_in, x + r * n_in, y + r * ldy, ldy);
    default: return;
  }
}

}  // namespace

void dense_matmul_rows(WeightFormat format, const void* w, int64_t n_in, int64_t row_begin, int64_t row_end,
                       const float* x, int64_t n_rows, float* y, int64_t ldy) {
  with_elem(format, [&](auto elem) {
    using Elem = decltype(elem);
    const auto* weights = static_cast<const typename Elem::Storage*>(w);
    int64_t o = row_begin;
    for (; o + 4 <= row_end; o += 4) dot_rows<Elem, 4>(weights + o * n_in, n_in, x, n_rows, y + o, ldy);
    for (; o < row_end; ++o) dot_rows<Elem, 1>(weights + o * n_in, n_in, x, n_rows, y + o, ldy);
  });
}

}  // namespace pagedllm::avx512
