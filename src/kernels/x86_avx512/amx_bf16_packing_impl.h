// The AVX-512 packing of the AMX bf16 GEMM's operands (amx/bf16_packing.h, the layouts and the rounding), written once
// over a conversion of 16 fp32 lanes to bf16, Convert::to_bf16(__m512) → __m256i: integer rounding on AVX-512F
// (x86_avx512/amx_bf16_packing.cc) or vcvtneps2bf16 (x86_avx512_bf16/amx_bf16_packing.cc). Include only from those
// two translation units; internal to each (unnamed namespace).
//   A:        each row's 32 k of a tile are two 16-lane conversions stored side by side.
//   B (k, n): rows 2q and 2q + 1 of op(B) are loaded 16 columns at a time and interleaved into 16 32-bit pairs, one
//             tile row.
//   B (n, k): each column of op(B) is a row of b, whose 32 k of a tile are 16 consecutive pairs: 16 columns give a
//             16 × 16 matrix of pairs, transposed into the tile's 16 rows.
// Ragged edges are masked loads (zero lanes convert to bf16 zero), so every byte of every tile is written.
#pragma once

#include <immintrin.h>

#include <cstdint>

#include "kernels/amx/tile_config.h"
#include "kernels/dense_elem_dispatch.h"
#include "kernels/x86_avx512/transpose.h"

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"

namespace pagedllm::avx512 {
namespace {

constexpr int64_t kPackPanel = 16;
constexpr int64_t kPackStep = 32;
constexpr int64_t kPackTileValues = amx::kTileBytes / 2;

// f32_to_bf16 (util/half.h) on 16 lanes: a NaN keeps its top half with the quiet bit set; anything else, denormals
// included, rounds to nearest-even on its bits (a carry into the exponent gives the next binade or infinity).
inline __m256i bf16_by_integer_rounding(__m512 v) {
  const __m512i bits = _mm512_castps_si512(v);
  const __m512i odd = _mm512_and_si512(_mm512_srli_epi32(bits, 16), _mm512_set1_epi32(1));
  const __m512i rounded =
      _mm512_srli_epi32(_mm512_add_epi32(bits, _mm512_add_epi32(odd, _mm512_set1_epi32(0x7fff))), 16);
  const __mmask16 nan = _mm512_cmpgt_epu32_mask(_mm512_and_si512(bits, _mm512_set1_epi32(0x7fffffff)),
                                                _mm512_set1_epi32(0x7f800000));
  const __m512i quiet = _mm512_or_si512(_mm512_srli_epi32(bits, 16), _mm512_set1_epi32(0x40));
  return _mm512_cvtepi32_epi16(_mm512_mask_blend_epi32(nan, rounded, quiet));
}

// The first `count` lanes (all of them from 16 on).
inline __mmask16 first_lanes(int64_t count) {
  return count >= 16 ? static_cast<__mmask16>(0xFFFF) : static_cast<__mmask16>((1u << count) - 1);
}

// 16 consecutive elements as bf16, the first `count` of them read (count ≥ 1) and the rest zero.
template <class Convert>
struct F32Lanes {
  using Storage = float;
  static __m256i load16(const float* p, int64_t count) {
    return Convert::to_bf16(_mm512_maskz_loadu_ps(first_lanes(count), p));
  }
};
template <class Convert>
struct F16Lanes {
  using Storage = uint16_t;
  static __m256i load16(const uint16_t* p, int64_t count) {
    return Convert::to_bf16(_mm512_cvtph_ps(_mm256_maskz_loadu_epi16(first_lanes(count), p)));
  }
};
struct Bf16Lanes {
  using Storage = uint16_t;
  static __m256i load16(const uint16_t* p, int64_t count) { return _mm256_maskz_loadu_epi16(first_lanes(count), p); }
};

// Elements p .. p + 15 of a run of `length` (zero past it), without forming a pointer past the run.
template <class Elem>
__m256i lanes_from(const typename Elem::Storage* run, int64_t p, int64_t length) {
  return p < length ? Elem::load16(run + p, length - p) : _mm256_setzero_si256();
}

template <class Convert>
void pack_a_lanes(const float* a, int64_t lda, int64_t m, int64_t p0, int64_t kc, int64_t num_steps, uint16_t* out) {
  const int64_t panel_values = num_steps * kPackTileValues;
  for (int64_t i = 0; i < (m + kPackPanel - 1) / kPackPanel * kPackPanel; ++i) {
    uint16_t* row_out = out + i / kPackPanel * panel_values + i % kPackPanel * kPackStep;
    const float* row = i < m ? a + i * lda + p0 : nullptr;
    for (int64_t p = 0; p < num_steps * kPackStep; p += 16) {
      const __m256i v = row != nullptr ? lanes_from<F32Lanes<Convert>>(row, p, kc) : _mm256_setzero_si256();
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(row_out + p / kPackStep * kPackTileValues + p % kPackStep), v);
    }
  }
}

template <class Elem>
void pack_b_rows(const typename Elem::Storage* b, int64_t ldb, int64_t p0, int64_t kc, int64_t j0, int64_t nc,
                 int64_t num_steps, uint16_t* out) {
  const int64_t panel_values = num_steps * kPackTileValues;
  const __m256i zero = _mm256_setzero_si256();
  for (int64_t jp = 0; jp < (nc + kPackPanel - 1) / kPackPanel; ++jp) {
    const int64_t first_col = jp * kPackPanel, cols = nc - first_col;
    for (int64_t p = 0; p < num_steps * kPackStep; p += 2) {
      const __m256i even = p < kc ? Elem::load16(b + (p0 + p) * ldb + j0 + first_col, cols) : zero;
      const __m256i odd = p + 1 < kc ? Elem::load16(b + (p0 + p + 1) * ldb + j0 + first_col, cols) : zero;
      const __m512i pairs = _mm512_or_si512(_mm512_cvtepu16_epi32(even),
                                            _mm512_slli_epi32(_mm512_cvtepu16_epi32(odd), 16));
      const int64_t q = p % kPackStep / 2;  // the tile row: pair q of the step
      _mm512_storeu_si512(out + jp * panel_values + p / kPackStep * kPackTileValues + q * 2 * kPackPanel, pairs);
    }
  }
}

template <class Elem>
void pack_b_columns(const typename Elem::Storage* b, int64_t ldb, int64_t p0, int64_t kc, int64_t j0, int64_t nc,
                    int64_t num_steps, uint16_t* out) {
  const int64_t panel_values = num_steps * kPackTileValues;
  for (int64_t jp = 0; jp < (nc + kPackPanel - 1) / kPackPanel; ++jp) {
    for (int64_t s = 0; s < num_steps; ++s) {
      __m512 pairs[16];  // pairs[c] word q: k 2q, 2q + 1 of the step, column c of the panel
      for (int64_t c = 0; c < kPackPanel; ++c) {
        const int64_t j = jp * kPackPanel + c;
        if (j >= nc) {
          pairs[c] = _mm512_setzero_ps();
          continue;
        }
        const auto* run = b + (j0 + j) * ldb + p0;
        const __m256i low = lanes_from<Elem>(run, s * kPackStep, kc);
        const __m256i high = lanes_from<Elem>(run, s * kPackStep + 16, kc);
        pairs[c] = _mm512_castsi512_ps(_mm512_inserti64x4(_mm512_castsi256_si512(low), high, 1));
      }
      transpose_16x16(pairs);
      uint16_t* tile = out + jp * panel_values + s * kPackTileValues;
      for (int64_t q = 0; q < kPackPanel; ++q) _mm512_storeu_ps(tile + q * 2 * kPackPanel, pairs[q]);
    }
  }
}

template <class Convert>
void pack_b_lanes(WeightFormat format, bool trans_b, const void* b, int64_t ldb, int64_t p0, int64_t kc, int64_t j0,
                  int64_t nc, int64_t num_steps, uint16_t* out) {
  with_dense_elem<F32Lanes<Convert>, F16Lanes<Convert>, Bf16Lanes>(format, [&](auto elem) {
    using Elem = decltype(elem);
    const auto* typed = static_cast<const typename Elem::Storage*>(b);
    if (trans_b) {
      pack_b_columns<Elem>(typed, ldb, p0, kc, j0, nc, num_steps, out);
    } else {
      pack_b_rows<Elem>(typed, ldb, p0, kc, j0, nc, num_steps, out);
    }
  });
}

}  // namespace
}  // namespace pagedllm::avx512

#pragma GCC diagnostic pop
