#include "kernels/x86_avx2/dense_kernels.h"

#include <algorithm>
#include <utility>

#include "kernels/dense_elem_dispatch.h"
#include "kernels/simd/avx2.h"
#include "util/error.h"

namespace pagedllm::avx2 {
namespace {

template <class Fn>
void with_elem(WeightFormat format, Fn&& fn) {
  with_dense_elem<F32Elem, F16Elem, BF16Elem>(format, std::forward<Fn>(fn));
}

// RW rows of W (from w) against RX rows of x (from x): y[j * ldy + i] = x[j, :] · W[i, :]. RW·RX accumulators
// plus RX x vectors and one W vector fit the 16 ymm registers for RW = 4, RX = 3.
//
// While reading these RW rows the loop prefetches the next RW rows, one cache line of each per line consumed. A
// BF16 row of 2048 inputs is one 4 KiB page, and the hardware prefetchers stop at page boundaries, so without this
// every row starts cold: measured on Zen 5 (2 threads, 5632x2048 BF16) 31 GB/s without, 54 GB/s with.
// The prefetches stay a loop of RW iterations rather than RW instructions back to back: over all of TinyLlama's
// matrices in BF16 (2.2 GB, 2 threads, alternating runs on Zen 5) the unrolled form streamed 44-46 GB/s and the
// loop 51-61 GB/s, faster than a plain AVX-512 sum of the same bytes without prefetches (44-57). Why is not
// understood; interleaving or splitting the unrolled prefetches did not recover it.
template <class Elem, int RW, int RX>
inline void dot_tile(const typename Elem::Storage* w, int64_t n_in, const float* x, float* y, int64_t ldy) {
  constexpr int64_t kElemsPerLine = 64 / sizeof(typename Elem::Storage);
  const auto* next_tile = w + RW * n_in;
  __m256 acc[RW][RX];
#pragma GCC unroll 4
  for (int i = 0; i < RW; ++i) {
#pragma GCC unroll 3
    for (int j = 0; j < RX; ++j) acc[i][j] = _mm256_setzero_ps();
  }
  int64_t k = 0;
  for (; k + 8 <= n_in; k += 8) {
    __m256 xv[RX];
#pragma GCC unroll 3
    for (int j = 0; j < RX; ++j) xv[j] = _mm256_loadu_ps(x + j * n_in + k);
    if (k % kElemsPerLine == 0) {
#pragma GCC unroll 1  // see above
      for (int i = 0; i < RW; ++i) _mm_prefetch(reinterpret_cast<const char*>(next_tile + i * n_in + k), _MM_HINT_T0);
    }
#pragma GCC unroll 4
    for (int i = 0; i < RW; ++i) {
      __m256 wv = Elem::load8(w + i * n_in + k);
#pragma GCC unroll 3
      for (int j = 0; j < RX; ++j) acc[i][j] = _mm256_fmadd_ps(wv, xv[j], acc[i][j]);
    }
  }
  for (int i = 0; i < RW; ++i) {
    for (int j = 0; j < RX; ++j) {
      float sum = hsum(acc[i][j]);
      for (int64_t t = k; t < n_in; ++t) sum += x[j * n_in + t] * Elem::load1(w + i * n_in + t);
      y[j * ldy + i] = sum;
    }
  }
}

template <class Elem, int RW>
void dot_rows(const typename Elem::Storage* w, int64_t n_in, const float* x, int64_t n_rows, float* y, int64_t ldy) {
  int64_t r = 0;
  for (; r + 3 <= n_rows; r += 3) dot_tile<Elem, RW, 3>(w, n_in, x + r * n_in, y + r * ldy, ldy);
  if (n_rows - r == 2) dot_tile<Elem, RW, 2>(w, n_in, x + r * n_in, y + r * ldy, ldy);
  if (n_rows - r == 1) dot_tile<Elem, RW, 1>(w, n_in, x + r * n_in, y + r * ldy, ldy);
}

template <class Elem>
void matmul_rows(const typename Elem::Storage* w, int64_t n_in, int64_t row_begin, int64_t row_end,
                 const float* x, int64_t n_rows, float* y, int64_t ldy) {
  int64_t o = row_begin;
  for (; o + 4 <= row_end; o += 4) dot_rows<Elem, 4>(w + o * n_in, n_in, x, n_rows, y + o, ldy);
  for (; o < row_end; ++o) dot_rows<Elem, 1>(w + o * n_in, n_in, x, n_rows, y + o, ldy);
}

// dx[:, c0:c1] += Σ_i dy[:, o + i] · W[o + i, c0:c1] over RW consecutive W rows starting at o. Each group of 8
// columns of the RW rows is converted once and used for every row of dx.
template <class Elem, int RW>
void accumulate_t(const typename Elem::Storage* w, int64_t n_out, int64_t n_in, int64_t o, int64_t c0, int64_t c1,
                  const float* dy, int64_t n_rows, float* dx) {
  int64_t c = c0;
  for (; c + 8 <= c1; c += 8) {
    __m256 wv[RW];
#pragma GCC unroll 4
    for (int i = 0; i < RW; ++i) wv[i] = Elem::load8(w + (o + i) * n_in + c);
    for (int64_t r = 0; r < n_rows; ++r) {
      const float* g = dy + r * n_out + o;
      float* d = dx + r * n_in + c;
      __m256 a = _mm256_loadu_ps(d);
#pragma GCC unroll 4
      for (int i = 0; i < RW; ++i) a = _mm256_fmadd_ps(wv[i], _mm256_broadcast_ss(g + i), a);
      _mm256_storeu_ps(d, a);
    }
  }
  for (; c < c1; ++c) {
    for (int64_t r = 0; r < n_rows; ++r) {
      float sum = dx[r * n_in + c];
      for (int i = 0; i < RW; ++i) sum += dy[r * n_out + o + i] * Elem::load1(w + (o + i) * n_in + c);
      dx[r * n_in + c] = sum;
    }
  }
}

template <class Elem>
void matmul_t_rows(const typename Elem::Storage* w, int64_t n_out, int64_t n_in, int64_t row_begin, int64_t row_end,
                   const float* dy, int64_t n_rows, float* dx) {
  // W is read front to back once (blocking columns to keep dx in L1 measured slower: it breaks the streams).
  std::fill(dx, dx + n_rows * n_in, 0.0f);
  int64_t o = row_begin;
  for (; o + 4 <= row_end; o += 4) accumulate_t<Elem, 4>(w, n_out, n_in, o, 0, n_in, dy, n_rows, dx);
  for (; o < row_end; ++o) accumulate_t<Elem, 1>(w, n_out, n_in, o, 0, n_in, dy, n_rows, dx);
}

template <class Elem>
void to_f32(const typename Elem::Storage* w, int64_t n_in, int64_t row_begin, int64_t row_end, int64_t col_begin,
            int64_t col_end, float* out) {
  int64_t n_cols = col_end - col_begin;
  for (int64_t o = row_begin; o < row_end; ++o) {
    const auto* src = w + o * n_in + col_begin;
    float* dst = out + (o - row_begin) * n_cols;
    int64_t c = 0;
    for (; c + 8 <= n_cols; c += 8) _mm256_storeu_ps(dst + c, Elem::load8(src + c));
    for (; c < n_cols; ++c) dst[c] = Elem::load1(src + c);
  }
}

}  // namespace

void dense_matmul_rows(WeightFormat format, const void* w, int64_t n_in, int64_t row_begin, int64_t row_end,
                       const float* x, int64_t n_rows, float* y, int64_t ldy) {
  with_elem(format, [&](auto elem) {
    using Elem = decltype(elem);
    matmul_rows<Elem>(static_cast<const typename Elem::Storage*>(w), n_in, row_begin, row_end, x, n_rows, y, ldy);
  });
}

void dense_matmul_t_rows(WeightFormat format, const void* w, int64_t n_out, int64_t n_in, int64_t row_begin,
                         int64_t row_end, const float* dy, int64_t n_rows, float* dx) {
  with_elem(format, [&](auto elem) {
    using Elem = decltype(elem);
    matmul_t_rows<Elem>(static_cast<const typename Elem::Storage*>(w), n_out, n_in, row_begin, row_end, dy, n_rows,
                        dx);
  });
}

void dense_to_f32(WeightFormat format, const void* w, int64_t n_in, int64_t row_begin, int64_t row_end,
                  int64_t col_begin, int64_t col_end, float* out) {
  with_elem(format, [&](auto elem) {
    using Elem = decltype(elem);
    to_f32<Elem>(static_cast<const typename Elem::Storage*>(w), n_in, row_begin, row_end, col_begin, col_end, out);
  });
}

}  // namespace pagedllm::avx2
