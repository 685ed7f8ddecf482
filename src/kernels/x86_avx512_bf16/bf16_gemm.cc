// GCC 12's AVX-512 headers initialise their "undefined" vectors from themselves, which -Wall reports once per
// intrinsic use (GCC bug 105593); nothing here reads an undefined value.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#include "kernels/x86_avx512_bf16/bf16_gemm.h"

#include <immintrin.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <memory>
#include <utility>

#include "kernels/bf16_panels.h"
#include "kernels/dense_elem_dispatch.h"
#include "kernels/x86_avx512/pack_buffer.h"
#include "kernels/x86_avx512/transpose.h"
#include "util/spread_prefetch.h"

namespace pagedllm::avx512_bf16 {
namespace {

// Packed operands hold bf16 pairs (k = 2q, 2q + 1 of one row or column) as 32-bit words, the unit vdpbf16ps
// multiplies: acc[j] += a[2q]·b[2q][j] + a[2q + 1]·b[2q + 1][j].
// Register tile: up to 14 rows × 32 columns = 28 accumulators, 2 B vectors and a broadcast A pair. The strip height
// (R rows) is chosen per product as the most even split of m into strips of at most kMaxRows: a served batch's 64
// rows run as 5 strips of 13 (65 rows of work) rather than 4 of 14 and one of 8 padded to 14 (70).
constexpr int64_t kMaxRows = 14;
constexpr int64_t kCols = kBf16PanelColumns;
static_assert(kCols == 32, "the micro-kernel holds a panel row in two vectors");
// Cache blocks in k values (even, so pairs never straddle blocks): a packed B block (kDepth / 2 × kWidth words =
// 256 KiB) stays in L2 while every packed A strip (R × kDepth / 2 words ≤ 28 KiB) runs over it.
constexpr int64_t kDepth = 512;
constexpr int64_t kWidth = 256;

using PackBuffer = pagedllm::PackBuffer<uint32_t>;

// fp32 → bf16 as vcvtne2ps2bf16 rounds: nearest-even, denormals flushed to zero, NaN kept quiet.
uint16_t round_to_bf16(float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, sizeof(bits));
  if ((bits & 0x7f800000u) == 0) return static_cast<uint16_t>((bits >> 16) & 0x8000u);
  if ((bits & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((bits >> 16) | 0x0040u);
  return static_cast<uint16_t>((bits + 0x7fffu + ((bits >> 16) & 1u)) >> 16);
}

__m512i to_bf16x32(__m512 lo, __m512 hi) { return reinterpret_cast<__m512i>(_mm512_cvtne2ps_pbh(hi, lo)); }
__m256i to_bf16x16(__m512 v) { return reinterpret_cast<__m256i>(_mm512_cvtneps_pbh(v)); }

// How each storage type becomes bf16: 32 or 16 consecutive elements, or one.
struct F32Elem {
  using Storage = float;
  static __m512i load32(const float* p) { return to_bf16x32(_mm512_loadu_ps(p), _mm512_loadu_ps(p + 16)); }
  static __m256i load16(const float* p) { return to_bf16x16(_mm512_loadu_ps(p)); }
  static uint16_t load1(const float* p) { return round_to_bf16(*p); }
};
struct F16Elem {
  using Storage = uint16_t;
  static __m512 widen16(const uint16_t* p) {
    return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
  }
  static __m512i load32(const uint16_t* p) { return to_bf16x32(widen16(p), widen16(p + 16)); }
  static __m256i load16(const uint16_t* p) { return to_bf16x16(widen16(p)); }
  static uint16_t load1(const uint16_t* p) { return round_to_bf16(_cvtsh_ss(*p)); }
};
struct BF16Elem {
  using Storage = uint16_t;
  static __m512i load32(const uint16_t* p) { return _mm512_loadu_si512(p); }
  static __m256i load16(const uint16_t* p) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)); }
  static uint16_t load1(const uint16_t* p) { return *p; }
};

uint32_t pair(uint16_t even, uint16_t odd) { return static_cast<uint32_t>(even) | (static_cast<uint32_t>(odd) << 16); }

void transpose_words(__m512i v[16]) {
  __m512 f[16];
  for (int i = 0; i < 16; ++i) f[i] = _mm512_castsi512_ps(v[i]);
  avx512::transpose_16x16(f);
  for (int i = 0; i < 16; ++i) v[i] = _mm512_castps_si512(f[i]);
}

// A[i0 : i0 + rows, p0 : p0 + kc] → kp = ⌈kc / 2⌉ slices of R pair words (out[q * R + i]); rows past `rows`
// (≤ R) and the odd k past kc are zero.
template <class Elem, int R>
void pack_a(const typename Elem::Storage* a, int64_t lda, int64_t rows, int64_t p0, int64_t kc, uint32_t* out) {
  int64_t p = 0;
  // 32 k at a time: 16 pair words per row, transposed so each pair index is a vector of rows.
  for (; p + 32 <= kc; p += 32) {
    __m512i v[16];
    for (int i = 0; i < 16; ++i) v[i] = i < rows ? Elem::load32(a + i * lda + p0 + p) : _mm512_setzero_si512();
    transpose_words(v);
    for (int q = 0; q < 16; ++q) _mm512_mask_storeu_epi32(out + (p / 2 + q) * R, (1u << R) - 1, v[q]);
  }
  for (; p < kc; p += 2) {
    for (int64_t i = 0; i < R; ++i) {
      const auto* row = a + i * lda + p0;
      out[p / 2 * R + i] = i >= rows ? 0u : pair(Elem::load1(row + p), p + 1 < kc ? Elem::load1(row + p + 1) : 0);
    }
  }
}

// pack_a from a transposed A (a: (k, m), lda ≥ m; `a` points at column i0): the strip's rows are contiguous in each
// of A's stored rows, so pair q is two masked loads (k = 2q and 2q + 1), rounded and interleaved into words.
template <int R>
void pack_a_transposed(const float* a, int64_t lda, int64_t rows, int64_t p0, int64_t kc, uint32_t* out) {
  const __mmask16 mask = static_cast<__mmask16>((1u << rows) - 1);
  for (int64_t p = 0; p < kc; p += 2) {
    const __m256i even = to_bf16x16(_mm512_maskz_loadu_ps(mask, a + (p0 + p) * lda));
    const __m256i odd = p + 1 < kc ? to_bf16x16(_mm512_maskz_loadu_ps(mask, a + (p0 + p + 1) * lda))
                                   : _mm256_setzero_si256();
    const __m512i words = _mm512_or_si512(_mm512_cvtepu16_epi32(even), _mm512_slli_epi32(_mm512_cvtepu16_epi32(odd), 16));
    _mm512_mask_storeu_epi32(out + p / 2 * R, (1u << R) - 1, words);
  }
}

// op(B)[p0 : p0 + kc, j0 : j0 + nc] → panels of kCols columns, each kp × kCols pair words (zero-padded).
template <class Elem>
void pack_b(bool trans_b, const typename Elem::Storage* b, int64_t ldb, int64_t p0, int64_t kc, int64_t j0,
            int64_t nc, uint32_t* out) {
  const int64_t kp = (kc + 1) / 2;
  for (int64_t jp = 0; jp < nc; jp += kCols) {
    const int64_t cols = std::min(kCols, nc - jp);
    uint32_t* panel = out + jp * kp;
    const auto at = [&](int64_t p, int64_t j) -> uint16_t {  // op(B)[p0 + p, j0 + jp + j] as bf16, 0 outside
      if (p >= kc || j >= cols) return 0;
      return Elem::load1(trans_b ? b + (j0 + jp + j) * ldb + p0 + p : b + (p0 + p) * ldb + j0 + jp + j);
    };
    int64_t p = 0;
    if (cols == kCols && trans_b) {  // W rows are panel columns: 16 rows × 32 k per transpose
      for (; p + 32 <= kc; p += 32) {
        for (int64_t half = 0; half < 2; ++half) {
          __m512i v[16];
          for (int j = 0; j < 16; ++j) v[j] = Elem::load32(b + (j0 + jp + 16 * half + j) * ldb + p0 + p);
          transpose_words(v);
          for (int q = 0; q < 16; ++q) _mm512_storeu_si512(panel + (p / 2 + q) * kCols + 16 * half, v[q]);
        }
      }
    } else if (cols == kCols) {  // rows 2q and 2q + 1 of B interleaved 16 columns at a time
      for (; p + 2 <= kc; p += 2) {
        for (int64_t half = 0; half < 2; ++half) {
          const auto* src = b + (p0 + p) * ldb + j0 + jp + 16 * half;
          const __m512i even = _mm512_cvtepu16_epi32(Elem::load16(src));
          const __m512i odd = _mm512_cvtepu16_epi32(Elem::load16(src + ldb));
          _mm512_storeu_si512(panel + p / 2 * kCols + 16 * half, _mm512_or_si512(even, _mm512_slli_epi32(odd, 16)));
        }
      }
    }
    for (; p < kc; p += 2) {
      for (int64_t j = 0; j < kCols; ++j) panel[p / 2 * kCols + j] = pair(at(p, j), at(p + 1, j));
    }
  }
}

// C tile (rows × cols valid) = scale_c · C + alpha · packed A strip · packed B panel over kp pairs; scale_c 0
// overwrites.
template <int R>
void micro_kernel(int64_t kp, const uint32_t* pa, const uint32_t* pb, float* c, int64_t ldc, int64_t rows,
                  int64_t cols, float alpha, float scale_c) {
  __m512 acc0[R], acc1[R];
#pragma GCC unroll 14
  for (int i = 0; i < R; ++i) acc0[i] = acc1[i] = _mm512_setzero_ps();
  for (int64_t q = 0; q < kp; ++q) {
    const __m512bh b0 = reinterpret_cast<__m512bh>(_mm512_loadu_si512(pb + q * kCols));
    const __m512bh b1 = reinterpret_cast<__m512bh>(_mm512_loadu_si512(pb + q * kCols + 16));
    const uint32_t* aq = pa + q * R;
#pragma GCC unroll 14
    for (int i = 0; i < R; ++i) {
      const __m512bh av = reinterpret_cast<__m512bh>(_mm512_set1_epi32(static_cast<int>(aq[i])));
      acc0[i] = _mm512_dpbf16_ps(acc0[i], av, b0);
      acc1[i] = _mm512_dpbf16_ps(acc1[i], av, b1);
    }
  }
  const __mmask16 mask0 = cols >= 16 ? 0xFFFF : static_cast<__mmask16>((1u << cols) - 1);
  const __mmask16 mask1 = cols >= 32 ? 0xFFFF : cols <= 16 ? 0 : static_cast<__mmask16>((1u << (cols - 16)) - 1);
  const __m512 sc = _mm512_set1_ps(scale_c);
  if (alpha != 1.0f) {
    const __m512 al = _mm512_set1_ps(alpha);
#pragma GCC unroll 14
    for (int i = 0; i < R; ++i) acc0[i] = _mm512_mul_ps(acc0[i], al), acc1[i] = _mm512_mul_ps(acc1[i], al);
  }
#pragma GCC unroll 14
  for (int i = 0; i < R; ++i) {
    if (i >= rows) break;
    float* row = c + i * ldc;
    if (scale_c == 0.0f) {
      _mm512_mask_storeu_ps(row, mask0, acc0[i]);
      _mm512_mask_storeu_ps(row + 16, mask1, acc1[i]);
    } else {
      _mm512_mask_storeu_ps(row, mask0, _mm512_fmadd_ps(_mm512_maskz_loadu_ps(mask0, row), sc, acc0[i]));
      _mm512_mask_storeu_ps(row + 16, mask1, _mm512_fmadd_ps(_mm512_maskz_loadu_ps(mask1, row + 16), sc, acc1[i]));
    }
  }
}

// The kernels of one strip height R.
struct StripKernels {
  void (*pack_a)(const float* a, int64_t lda, int64_t rows, int64_t p0, int64_t kc, uint32_t* out);
  void (*pack_a_transposed)(const float* a, int64_t lda, int64_t rows, int64_t p0, int64_t kc, uint32_t* out);
  void (*micro_kernel)(int64_t kp, const uint32_t* pa, const uint32_t* pb, float* c, int64_t ldc, int64_t rows,
                       int64_t cols, float alpha, float scale_c);
};

template <int... Rs>
constexpr std::array<StripKernels, sizeof...(Rs)> strip_kernel_table(std::integer_sequence<int, Rs...>) {
  return {StripKernels{pack_a<F32Elem, Rs + 1>, pack_a_transposed<Rs + 1>, micro_kernel<Rs + 1>}...};
}
constexpr auto kStripKernels = strip_kernel_table(std::make_integer_sequence<int, kMaxRows>());

// The strip height for m rows: as few strips as kMaxRows allows, as even as they can be.
int64_t strip_rows(int64_t m) {
  const int64_t strips = (m + kMaxRows - 1) / kMaxRows;
  return (m + strips - 1) / strips;
}

// Where each block of B's packed panels comes from: packed here from a matrix (PackedHere), or stored packed
// (StoredPanels). block() returns the block's first panel; panel_stride() the words from one panel to the next.
template <class Elem>
class PackedHere {
 public:
  PackedHere(bool trans_b, const typename Elem::Storage* b, int64_t ldb, int64_t k, int64_t n)
      : trans_b_(trans_b), b_(b), ldb_(ldb), k_(k), n_(n) {}
  const uint32_t* block(int64_t p0, int64_t kc, int64_t j0, int64_t nc) {
    pack_b<Elem>(trans_b_, b_, ldb_, p0, kc, j0, nc, packed_);
    return packed_;
  }
  static int64_t panel_stride(int64_t kp) { return kp * kCols; }
  // The next block's rows of B (from main memory while this block is multiplied).
  SpreadPrefetch prefetch(int64_t p0, int64_t kc, int64_t j0, int64_t nc, int64_t calls) const {
    const int64_t elem_bytes = sizeof(typename Elem::Storage);
    const auto* base = p0 >= k_ || j0 >= n_ ? nullptr
                       : reinterpret_cast<const char*>(trans_b_ ? b_ + j0 * ldb_ + p0 : b_ + p0 * ldb_ + j0);
    return SpreadPrefetch(base, ldb_ * elem_bytes, trans_b_ ? nc : kc, (trans_b_ ? kc : nc) * elem_bytes, calls);
  }

 private:
  static inline thread_local PackBuffer b_buffer_;
  bool trans_b_;
  const typename Elem::Storage* b_;
  int64_t ldb_, k_, n_;
  uint32_t* packed_ = b_buffer_.get(kDepth / 2 * kWidth);
};

class StoredPanels {
 public:
  StoredPanels(const uint32_t* panels, int64_t k_pairs, int64_t k, int64_t n)
      : panels_(panels), k_pairs_(k_pairs), k_(k), n_(n) {}
  const uint32_t* block(int64_t p0, int64_t, int64_t j0, int64_t) const { return at(p0, j0); }
  int64_t panel_stride(int64_t) const { return k_pairs_ * kCols; }
  SpreadPrefetch prefetch(int64_t p0, int64_t kc, int64_t j0, int64_t nc, int64_t calls) const {
    return SpreadPrefetch(p0 >= k_ || j0 >= n_ ? nullptr : at(p0, j0), k_pairs_ * kCols * sizeof(uint32_t),
                          (nc + kCols - 1) / kCols, (kc + 1) / 2 * kCols * sizeof(uint32_t), calls);
  }

 private:
  const uint32_t* at(int64_t p0, int64_t j0) const { return panels_ + (j0 / kCols * k_pairs_ + p0 / 2) * kCols; }
  const uint32_t* panels_;
  int64_t k_pairs_, k_, n_;
};

template <class BSource>
void gemm_blocked(bool trans_a, int64_t m, int64_t n, int64_t k, float alpha, const float* a, int64_t lda,
                  BSource&& b_source, float beta, float* c, int64_t ldc) {
  // Each depth block of A is packed once (all its strips), then every block of B's columns runs over it.
  thread_local PackBuffer a_buffer;
  const int64_t rows_per_strip = strip_rows(m);
  const StripKernels& kernels = kStripKernels[rows_per_strip - 1];
  const int64_t num_strips = (m + rows_per_strip - 1) / rows_per_strip;
  uint32_t* packed_a = a_buffer.get(num_strips * rows_per_strip * kDepth / 2);
  for (int64_t p0 = 0; p0 < k; p0 += kDepth) {
    const int64_t kc = std::min(kDepth, k - p0), kp = (kc + 1) / 2;
    // The first depth block applies beta (0 overwrites, so C may hold garbage); later ones accumulate.
    const float scale_c = p0 == 0 ? beta : 1.0f;
    for (int64_t s = 0; s < num_strips; ++s) {
      const int64_t i0 = s * rows_per_strip, rows = std::min(rows_per_strip, m - i0);
      uint32_t* out = packed_a + i0 * kp;
      if (trans_a) {
        kernels.pack_a_transposed(a + i0, lda, rows, p0, kc, out);
      } else {
        kernels.pack_a(a + i0 * lda, lda, rows, p0, kc, out);
      }
    }
    for (int64_t j0 = 0; j0 < n; j0 += kWidth) {
      const int64_t nc = std::min(kWidth, n - j0);
      const uint32_t* packed_b = b_source.block(p0, kc, j0, nc);
      const int64_t panel_stride = b_source.panel_stride(kp);
      // The next block: the next columns at this depth, else the first columns of the next depth block.
      const int64_t next_j0 = j0 + kWidth < n ? j0 + kWidth : 0;
      const int64_t next_p0 = j0 + kWidth < n ? p0 : p0 + kDepth;
      // Why: with few rows of A (a served batch's 64) the micro-kernels spend little time on each block of B, and
      // reading the next one waited on main memory for most of its bytes (64-row products +20% with this).
      SpreadPrefetch prefetch = b_source.prefetch(next_p0, std::min(kDepth, k - next_p0), next_j0,
                                                  std::min(kWidth, n - next_j0), num_strips * ((nc + kCols - 1) / kCols));
      for (int64_t s = 0; s < num_strips; ++s) {
        const int64_t i0 = s * rows_per_strip;
        for (int64_t jp = 0; jp < nc; jp += kCols) {
          prefetch.step();
          kernels.micro_kernel(kp, packed_a + i0 * kp, packed_b + jp / kCols * panel_stride, c + i0 * ldc + j0 + jp,
                               ldc, std::min(rows_per_strip, m - i0), std::min(kCols, nc - jp), alpha, scale_c);
        }
      }
    }
  }
}

}  // namespace

void gemm_bf16(WeightFormat b_format, bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha,
               const float* a, int64_t lda, const void* b, int64_t ldb, float beta, float* c, int64_t ldc) {
  with_dense_elem<F32Elem, F16Elem, BF16Elem>(b_format, [&](auto elem) {
    using Elem = decltype(elem);
    gemm_blocked(trans_a, m, n, k, alpha, a, lda,
                 PackedHere<Elem>(trans_b, static_cast<const typename Elem::Storage*>(b), ldb, k, n), beta, c, ldc);
  });
}

void gemm_bf16_panels(int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, const uint32_t* panels,
                      float beta, float* c, int64_t ldc) {
  gemm_blocked(false, m, n, k, 1.0f, a, lda, StoredPanels(panels, bf16_panel_pairs(k), k, n), beta, c, ldc);
}

}  // namespace pagedllm::avx512_bf16
