// The VNNI micro-kernel and panel packing of the int8 GEMM. Compiled with the AVX-512 flags of this folder
// (quant/CMakeLists.txt).
// The tile: for each group of 32 values, 8 steps of 4; each step loads the panel's 4 values of 32 weight rows (two
// vectors of unsigned bytes w + 128) and, per input row, multiplies them with that row's 4 levels broadcast (vpdpbusd's
// embedded broadcast) into two int32 vectors started at -128 · Σ of the row's group levels, so every lane ends holding
// the exact Σ w · x of one (input row, weight row) pair. One fused multiply-add per lane then adds float(sum) · (step ·
// xd) to the fp32 tile: 6 × 2 int32 and 6 × 2 fp32 accumulators; per input row and group 16 vpdpbusd and 6 float ops.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#include "quant/x86_avx512/int8_gemm_kernels.h"

#include <immintrin.h>

#include <cstring>

namespace pagedllm::avx512 {
namespace {

static_assert(kInt8PanelCols == 32 && kInt8MaxTileRows == 6, "the tile holds 6 input rows × 2 vectors of 16 lanes");

// The 32 values of weight row j's group g as unsigned bytes w + 128, in natural order.
inline __m256i group_u8(const Int8GemmWeights& w, __m128i table, int64_t j, int64_t g) {
  const int64_t first = j * w.n_in + 32 * g;
  const __m256i flip = _mm256_set1_epi8(static_cast<char>(0x80));
  switch (w.layout) {
    case Int8GemmWeights::Layout::kFourBit: {
      const __m128i raw =
          _mm_loadu_si128(reinterpret_cast<const __m128i*>(static_cast<const uint8_t*>(w.data) + first / 2));
      const __m128i nibble = _mm_set1_epi8(0x0F);
      const __m128i high = _mm_shuffle_epi8(table, _mm_and_si128(_mm_srli_epi16(raw, 4), nibble));  // values 2k
      const __m128i low = _mm_shuffle_epi8(table, _mm_and_si128(raw, nibble));                      // values 2k + 1
      return _mm256_set_m128i(_mm_unpackhi_epi8(high, low), _mm_unpacklo_epi8(high, low));
    }
    case Int8GemmWeights::Layout::kQ8_0: {
      const auto* block = static_cast<const uint8_t*>(w.data) + (first / 32) * 34 + 2;
      return _mm256_xor_si256(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(block)), flip);
    }
    case Int8GemmWeights::Layout::kInt8Rows:
      break;
  }
  const auto* values = static_cast<const int8_t*>(w.data) + first;
  return _mm256_xor_si256(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(values)), flip);
}

inline float group_step(const Int8GemmWeights& w, const float* absmax, int64_t first_block, int64_t j, int64_t g) {
  const int64_t first = j * w.n_in + 32 * g;
  switch (w.layout) {
    case Int8GemmWeights::Layout::kFourBit:
      return absmax[first / w.block_size - first_block] * (1.0f / 127.0f);
    case Int8GemmWeights::Layout::kQ8_0: {
      uint16_t d_bits;
      std::memcpy(&d_bits, static_cast<const uint8_t*>(w.data) + (first / 32) * 34, 2);
      return _cvtsh_ss(d_bits);
    }
    case Int8GemmWeights::Layout::kInt8Rows:
      break;
  }
  return w.row_scales[j];
}

template <int R>
void tile_rows(const uint8_t* panel, const float* steps, int64_t num_groups, const int8_t* levels, int64_t ld_levels,
               const float* xd, const int32_t* starts, int64_t ld_groups, int num_cols, float* c, int64_t ldc,
               bool accumulate) {
  __m512 acc[R][2];
#pragma GCC unroll 6
  for (int r = 0; r < R; ++r) acc[r][0] = acc[r][1] = _mm512_setzero_ps();
  for (int64_t g = 0; g < num_groups; ++g) {
    __m512i sums[R][2];
#pragma GCC unroll 6
    for (int r = 0; r < R; ++r) sums[r][0] = sums[r][1] = _mm512_set1_epi32(starts[r * ld_groups + g]);
    const uint8_t* b = panel + 8 * g * 4 * kInt8PanelCols;
    const int8_t* x = levels + 32 * g;
#pragma GCC unroll 8
    for (int q = 0; q < 8; ++q) {
      const __m512i w0 = _mm512_loadu_si512(b + 4 * kInt8PanelCols * q);
      const __m512i w1 = _mm512_loadu_si512(b + 4 * kInt8PanelCols * q + 64);
#pragma GCC unroll 6
      for (int r = 0; r < R; ++r) {
        int32_t quad;
        std::memcpy(&quad, x + r * ld_levels + 4 * q, 4);
        const __m512i xq = _mm512_set1_epi32(quad);
        sums[r][0] = _mm512_dpbusd_epi32(sums[r][0], w0, xq);
        sums[r][1] = _mm512_dpbusd_epi32(sums[r][1], w1, xq);
      }
    }
    const __m512 step0 = _mm512_loadu_ps(steps + g * kInt8PanelCols);
    const __m512 step1 = _mm512_loadu_ps(steps + g * kInt8PanelCols + 16);
#pragma GCC unroll 6
    for (int r = 0; r < R; ++r) {
      const __m512 d = _mm512_set1_ps(xd[r * ld_groups + g]);
      acc[r][0] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sums[r][0]), _mm512_mul_ps(step0, d), acc[r][0]);
      acc[r][1] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sums[r][1]), _mm512_mul_ps(step1, d), acc[r][1]);
    }
  }
  const __mmask16 mask0 = num_cols >= 16 ? 0xFFFF : static_cast<__mmask16>((1u << num_cols) - 1);
  const __mmask16 mask1 = num_cols >= 32   ? 0xFFFF
                          : num_cols <= 16 ? 0
                                           : static_cast<__mmask16>((1u << (num_cols - 16)) - 1);
#pragma GCC unroll 6
  for (int r = 0; r < R; ++r) {
    float* out = c + r * ldc;
    if (accumulate) {
      acc[r][0] = _mm512_add_ps(acc[r][0], _mm512_maskz_loadu_ps(mask0, out));
      acc[r][1] = _mm512_add_ps(acc[r][1], _mm512_maskz_loadu_ps(mask1, out + 16));
    }
    _mm512_mask_storeu_ps(out, mask0, acc[r][0]);
    _mm512_mask_storeu_ps(out + 16, mask1, acc[r][1]);
  }
}

}  // namespace

void pack_int8_panel(const Int8GemmWeights& w, const float* absmax, int64_t first_block, int64_t j0, int64_t g0,
                     int64_t num_groups, uint8_t* panel, float* steps) {
  __m128i table = _mm_setzero_si128();
  if (w.layout == Int8GemmWeights::Layout::kFourBit) {
    table = _mm_xor_si128(_mm_loadu_si128(reinterpret_cast<const __m128i*>(w.code_values)),
                          _mm_set1_epi8(static_cast<char>(0x80)));
  }
  const __m256i zero = _mm256_set1_epi8(static_cast<char>(0x80));  // the weight 0
  // Four weight rows at a time: a 4 × 8 transpose of their 4-byte quads puts quad q of the four rows side by side.
  for (int64_t c = 0; c < kInt8PanelCols; c += 4) {
    for (int64_t g = 0; g < num_groups; ++g) {
      __m256i rows[4];
      for (int i = 0; i < 4; ++i) {
        const int64_t j = j0 + c + i;
        const bool inside = j < w.n_out;
        rows[i] = inside ? group_u8(w, table, j, g0 + g) : zero;
        steps[g * kInt8PanelCols + c + i] = inside ? group_step(w, absmax, first_block, j, g0 + g) : 0.0f;
      }
      const __m256i t0 = _mm256_unpacklo_epi32(rows[0], rows[1]), t1 = _mm256_unpackhi_epi32(rows[0], rows[1]);
      const __m256i t2 = _mm256_unpacklo_epi32(rows[2], rows[3]), t3 = _mm256_unpackhi_epi32(rows[2], rows[3]);
      // Quads {0, 4}, {1, 5}, {2, 6}, {3, 7} in the low and high 128-bit halves.
      const __m256i quads[4] = {_mm256_unpacklo_epi64(t0, t2), _mm256_unpackhi_epi64(t0, t2),
                                _mm256_unpacklo_epi64(t1, t3), _mm256_unpackhi_epi64(t1, t3)};
      uint8_t* out = panel + (8 * g * kInt8PanelCols + c) * 4;
      for (int q = 0; q < 4; ++q) {
        _mm_storeu_si128(reinterpret_cast<__m128i*>(out + q * 4 * kInt8PanelCols), _mm256_castsi256_si128(quads[q]));
        _mm_storeu_si128(reinterpret_cast<__m128i*>(out + (q + 4) * 4 * kInt8PanelCols),
                         _mm256_extracti128_si256(quads[q], 1));
      }
    }
  }
}

void int8_tile(int num_rows, const uint8_t* panel, const float* steps, int64_t num_groups, const int8_t* levels,
               int64_t ld_levels, const float* xd, const int32_t* starts, int64_t ld_groups, int num_cols, float* c,
               int64_t ldc, bool accumulate) {
  switch (num_rows) {
    case 1:
      return tile_rows<1>(panel, steps, num_groups, levels, ld_levels, xd, starts, ld_groups, num_cols, c, ldc,
                          accumulate);
    case 2:
      return tile_rows<2>(panel, steps, num_groups, levels, ld_levels, xd, starts, ld_groups, num_cols, c, ldc,
                          accumulate);
    case 3:
      return tile_rows<3>(panel, steps, num_groups, levels, ld_levels, xd, starts, ld_groups, num_cols, c, ldc,
                          accumulate);
    case 4:
      return tile_rows<4>(panel, steps, num_groups, levels, ld_levels, xd, starts, ld_groups, num_cols, c, ldc,
                          accumulate);
    case 5:
      return tile_rows<5>(panel, steps, num_groups, levels, ld_levels, xd, starts, ld_groups, num_cols, c, ldc,
                          accumulate);
    default:
      return tile_rows<6>(panel, steps, num_groups, levels, ld_levels, xd, starts, ld_groups, num_cols, c, ldc,
                          accumulate);
  }
}

}  // namespace pagedllm::avx512
