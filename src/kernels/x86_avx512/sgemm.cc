#include "kernels/x86_avx512/sgemm.h"

#include <immintrin.h>

#include <algorithm>
#include <cstring>
#include <memory>

#include "kernels/x86_avx512/pack_buffer.h"
#include "kernels/x86_avx512/transpose.h"

namespace pagedllm::avx512 {
namespace {

// Register tile: 14 rows of C × 32 columns (2 zmm) = 28 accumulators, plus 2 B vectors and a broadcast A value
// fit the 32 zmm registers. Per k: 28 FMAs against 2 loads of B and 14 broadcasts of A (memory operands).
constexpr int64_t kRows = 14;
constexpr int64_t kCols = 32;
// Cache blocks: a packed B block (kDepth × kWidth = 384 KiB) stays in L2 while every packed A strip (kRows ×
// kDepth = 21 KiB, all of them packed once per depth block) runs over it.
constexpr int64_t kDepth = 384;
constexpr int64_t kWidth = 256;

using PackBuffer = pagedllm::PackBuffer<float>;

// How B's elements are read: fp32 as is, 16-bit halves (bf16 / IEEE f16) widened exactly to fp32.
struct F32Loader {
  using Storage = float;
  static __m512 load16(const float* p) { return _mm512_loadu_ps(p); }
  static float load1(const float* p) { return *p; }
};
struct BF16Loader {
  using Storage = uint16_t;
  static __m512 load16(const uint16_t* p) {
    const __m512i wide = _mm512_cvtepu16_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
    return _mm512_castsi512_ps(_mm512_slli_epi32(wide, 16));
  }
  static float load1(const uint16_t* p) {
    // Not util/half.h: an inline function from a header compiled here could be emitted with AVX-512 code and
    // chosen by the linker for the rest of the program.
    const uint32_t bits = static_cast<uint32_t>(*p) << 16;
    float value;
    std::memcpy(&value, &bits, sizeof(value));
    return value;
  }
};
struct F16Loader {
  using Storage = uint16_t;
  static __m512 load16(const uint16_t* p) {
    return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
  }
  static float load1(const uint16_t* p) { return _cvtsh_ss(*p); }
};

// B[p0 : p0 + kc, j0 : j0 + nc] (of op(B)) → panels of kCols columns, each kc × kCols row-major, zero-padded.
// Both layouts are read along their rows (Bᵀ, the usual case: W is (n_out, n_in), one W row per column).
template <class Loader>
void pack_b(bool trans_b, const typename Loader::Storage* b, int64_t ldb, int64_t p0, int64_t kc, int64_t j0,
            int64_t nc, float* out) {
  for (int64_t jp = 0; jp < nc; jp += kCols) {
    const int64_t cols = std::min(kCols, nc - jp);
    float* panel = out + jp * kc;
    if (!trans_b) {
      for (int64_t p = 0; p < kc; ++p) {
        const auto* src = b + (p0 + p) * ldb + j0 + jp;
        float* dst = panel + p * kCols;
        for (int64_t j = 0; j < cols; ++j) dst[j] = Loader::load1(src + j);
        for (int64_t j = cols; j < kCols; ++j) dst[j] = 0.0f;
      }
    } else if (cols == kCols) {
      // Rows of B are columns of the panel: transpose 16 × 16 blocks in registers, the rest element by element.
      int64_t p = 0;
      for (; p + 16 <= kc; p += 16) {
        for (int64_t half = 0; half < 2; ++half) {
          __m512 v[16];
          for (int j = 0; j < 16; ++j) v[j] = Loader::load16(b + (j0 + jp + 16 * half + j) * ldb + p0 + p);
          transpose_16x16(v);
          for (int q = 0; q < 16; ++q) _mm512_storeu_ps(panel + (p + q) * kCols + 16 * half, v[q]);
        }
      }
      for (; p < kc; ++p) {
        for (int64_t j = 0; j < kCols; ++j) panel[p * kCols + j] = Loader::load1(b + (j0 + jp + j) * ldb + p0 + p);
      }
    } else {
      for (int64_t j = 0; j < kCols; ++j) {
        if (j < cols) {
          const auto* src = b + (j0 + jp + j) * ldb + p0;
          for (int64_t p = 0; p < kc; ++p) panel[p * kCols + j] = Loader::load1(src + p);
        } else {
          for (int64_t p = 0; p < kc; ++p) panel[p * kCols + j] = 0.0f;
        }
      }
    }
  }
}

// op(A)[i0 : i0 + rows, p0 : p0 + kc] → kc × kRows column-major slices (out[p * kRows + i]), zero-padded rows.
void pack_a(bool trans_a, const float* a, int64_t lda, int64_t i0, int64_t rows, int64_t p0, int64_t kc, float* out) {
  if (trans_a) {  // Aᵀ: the kRows values of one p are contiguous
    for (int64_t p = 0; p < kc; ++p) {
      const float* src = a + (p0 + p) * lda + i0;
      for (int64_t i = 0; i < kRows; ++i) out[p * kRows + i] = i < rows ? src[i] : 0.0f;
    }
    return;
  }
  if (rows == kRows) {  // 16 × 16 transposes of the 14 rows (and 2 zero rows), 14 lanes stored per p
    int64_t p = 0;
    for (; p + 16 <= kc; p += 16) {
      __m512 v[16];
      for (int i = 0; i < 16; ++i) v[i] = i < kRows ? _mm512_loadu_ps(a + (i0 + i) * lda + p0 + p) : _mm512_setzero_ps();
      transpose_16x16(v);
      for (int q = 0; q < 16; ++q) _mm512_mask_storeu_ps(out + (p + q) * kRows, (1u << kRows) - 1, v[q]);
    }
    for (; p < kc; ++p) {
      for (int64_t i = 0; i < kRows; ++i) out[p * kRows + i] = a[(i0 + i) * lda + p0 + p];
    }
    return;
  }
  for (int64_t i = 0; i < kRows; ++i) {
    if (i < rows) {
      const float* src = a + (i0 + i) * lda + p0;
      for (int64_t p = 0; p < kc; ++p) out[p * kRows + i] = src[p];
    } else {
      for (int64_t p = 0; p < kc; ++p) out[p * kRows + i] = 0.0f;
    }
  }
}

// C tile (rows × cols valid) = scale_c · C + alpha · packed A strip · packed B panel, scale_c 0 (overwrite) or
// beta or 1.
void micro_kernel(int64_t kc, const float* pa, const float* pb, float* c, int64_t ldc, int64_t rows, int64_t cols,
                  float alpha, float scale_c) {
  __m512 acc0[kRows], acc1[kRows];
#pragma GCC unroll 14
  for (int i = 0; i < kRows; ++i) acc0[i] = acc1[i] = _mm512_setzero_ps();
  for (int64_t p = 0; p < kc; ++p) {
    const __m512 b0 = _mm512_loadu_ps(pb + p * kCols);
    const __m512 b1 = _mm512_loadu_ps(pb + p * kCols + 16);
    const float* ap = pa + p * kRows;
#pragma GCC unroll 14
    for (int i = 0; i < kRows; ++i) {
      const __m512 av = _mm512_set1_ps(ap[i]);
      acc0[i] = _mm512_fmadd_ps(av, b0, acc0[i]);
      acc1[i] = _mm512_fmadd_ps(av, b1, acc1[i]);
    }
  }
  const __mmask16 mask0 = cols >= 16 ? 0xFFFF : static_cast<__mmask16>((1u << cols) - 1);
  const __mmask16 mask1 = cols >= 32 ? 0xFFFF : cols <= 16 ? 0 : static_cast<__mmask16>((1u << (cols - 16)) - 1);
  const __m512 sc = _mm512_set1_ps(scale_c);
  if (alpha != 1.0f) {
    const __m512 al = _mm512_set1_ps(alpha);
    for (int i = 0; i < kRows; ++i) {
      acc0[i] = _mm512_mul_ps(acc0[i], al);
      acc1[i] = _mm512_mul_ps(acc1[i], al);
    }
  }
  for (int i = 0; i < rows; ++i) {
    float* row = c + i * ldc;
    if (scale_c == 0.0f) {
      _mm512_mask_storeu_ps(row, mask0, acc0[i]);
      _mm512_mask_storeu_ps(row + 16, mask1, acc1[i]);
    } else {
      const __m512 old0 = _mm512_maskz_loadu_ps(mask0, row);
      const __m512 old1 = _mm512_maskz_loadu_ps(mask1, row + 16);
      _mm512_mask_storeu_ps(row, mask0, _mm512_fmadd_ps(old0, sc, acc0[i]));
      _mm512_mask_storeu_ps(row + 16, mask1, _mm512_fmadd_ps(old1, sc, acc1[i]));
    }
  }
}

template <class Loader>
void sgemm_any_b(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float* a,
                 int64_t lda, const typename Loader::Storage* b, int64_t ldb, float beta, float* c, int64_t ldc) {
  // Each depth block of A is packed once (all its strips), then every block of B's columns runs over it.
  thread_local PackBuffer a_buffer, b_buffer;
  const int64_t num_strips = (m + kRows - 1) / kRows;
  float* packed_a = a_buffer.get(num_strips * kRows * kDepth);
  float* packed_b = b_buffer.get(kDepth * kWidth);
  for (int64_t p0 = 0; p0 < k; p0 += kDepth) {
    const int64_t kc = std::min(kDepth, k - p0);
    // The first depth block applies beta (0 overwrites, so C may hold garbage); later ones accumulate.
    const float scale_c = p0 == 0 ? beta : 1.0f;
    for (int64_t s = 0; s < num_strips; ++s) {
      pack_a(trans_a, a, lda, s * kRows, std::min(kRows, m - s * kRows), p0, kc, packed_a + s * kRows * kc);
    }
    for (int64_t j0 = 0; j0 < n; j0 += kWidth) {
      const int64_t nc = std::min(kWidth, n - j0);
      pack_b<Loader>(trans_b, b, ldb, p0, kc, j0, nc, packed_b);
      for (int64_t s = 0; s < num_strips; ++s) {
        const int64_t i0 = s * kRows;
        for (int64_t jp = 0; jp < nc; jp += kCols) {
          micro_kernel(kc, packed_a + s * kRows * kc, packed_b + jp * kc, c + i0 * ldc + j0 + jp, ldc,
                       std::min(kRows, m - i0), std::min(kCols, nc - jp), alpha, scale_c);
        }
      }
    }
  }
}

}  // namespace

void sgemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float* a, int64_t lda,
           const float* b, int64_t ldb, float beta, float* c, int64_t ldc) {
  sgemm_any_b<F32Loader>(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

void sgemm_half_b(bool bf16, bool trans_b, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda,
                  const uint16_t* b, int64_t ldb, float beta, float* c, int64_t ldc) {
  if (bf16) {
    sgemm_any_b<BF16Loader>(false, trans_b, m, n, k, 1.0f, a, lda, b, ldb, beta, c, ldc);
  } else {
    sgemm_any_b<F16Loader>(false, trans_b, m, n, k, 1.0f, a, lda, b, ldb, beta, c, ldc);
  }
}

}  // namespace pagedllm::avx512
