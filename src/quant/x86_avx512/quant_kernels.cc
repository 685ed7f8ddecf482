// AVX-512 VNNI decode kernels for 8-bit activations (see quant/quant_kernels.h). Compiled with -mavx512f
// -mavx512bw -mavx512vl -mavx512vnni; entered only after has_avx512_vnni().
//
// Each step takes two groups of 32 weights (64 bytes once decoded) as unsigned bytes w + 128 and multiplies them
// with the 64 int8 activation levels in one vpdpbusd, whose 16 int32 lanes start from the activations' lane sums
// (-128 · Σ of their 4 levels), so every lane ends holding its exact Σ w · x. Lanes 0-7 belong to the first group
// and 8-15 to the second; one fp32 FMA scales them by (activation step × weight step) of their group. Against the
// AVX2 kernels this replaces vpsignb/vpabsb/vpmaddubsw/vpmaddwd on two 32-byte halves by one instruction.
// GCC 12's AVX-512 headers initialise their "undefined" vectors from themselves, which -Wall reports once per
// intrinsic use (GCC bug 105593); nothing here reads an undefined value.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <immintrin.h>

#include <cstring>
#include <type_traits>

#include "quant/x86_avx512/quant_kernels.h"

#include "kernels/simd/avx2.h"
#include "quant/quant_kernels.h"
#include "quant/row_tiles.h"

namespace pagedllm::avx512 {
namespace {


// Lanes 0-7 = a, lanes 8-15 = b.
inline __m512 two_steps(float a, float b) {
  return _mm512_mask_broadcastss_ps(_mm512_set1_ps(a), 0xFF00, _mm_set_ss(b));
}

// Adds 128 to each int8 (a function, not a namespace-scope constant: a static initializer in this translation unit
// would run AVX-512 code on every CPU at start-up).
inline __m512i flip_signs(__m512i v) { return _mm512_xor_si512(v, _mm512_set1_epi8(static_cast<char>(0x80))); }
inline __m256i flip_signs(__m256i v) { return _mm256_xor_si256(v, _mm256_set1_epi8(static_cast<char>(0x80))); }
inline __m128i flip_signs(__m128i v) { return _mm_xor_si128(v, _mm_set1_epi8(static_cast<char>(0x80))); }

// The 16 code values as unsigned bytes (value + 128), in every 128-bit lane for vpshufb.
inline __m512i signed_table(const int8_t* lut_i8) {
  return _mm512_broadcast_i32x4(flip_signs(_mm_loadu_si128(reinterpret_cast<const __m128i*>(lut_i8))));
}

// Weight sources: pair(g) gives groups g and g + 1 as unsigned bytes (w + 128) in the order of the activation
// levels, single(g) group g alone; steps(g) / step(g) their weight steps, called once per group in order.

// 4-bit codes (kEvensThenOdds): 16 bytes per group; high nibbles are the evens, low nibbles the odds.
class FourBitSource {
 public:
  FourBitSource(const uint8_t* codes, const float* scales, int64_t first_group, int64_t groups_per_block,
                const int8_t* lut_i8)
      : codes_(codes), scale_(scales), left_in_block_(groups_per_block - first_group),
        groups_per_block_(groups_per_block) {
    table_ = signed_table(lut_i8);
  }
  const void* address(int64_t g) const { return codes_ + 16 * g; }
  __m512i pair(int64_t g) const {
    const __m256i raw = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(codes_ + 16 * g));
    const __m256i nibble = _mm256_set1_epi8(0x0F);
    const __m256i high = _mm256_and_si256(_mm256_srli_epi16(raw, 4), nibble);
    const __m256i low = _mm256_and_si256(raw, nibble);
    // 128-bit lanes: [high of group g | low of group g | high of group g+1 | low of group g+1].
    const __m512i order = _mm512_set_epi64(11, 10, 3, 2, 9, 8, 1, 0);
    const __m512i index = _mm512_permutex2var_epi64(_mm512_castsi256_si512(high), order, _mm512_castsi256_si512(low));
    return _mm512_shuffle_epi8(table_, index);
  }
  __m256i single(int64_t g) const {
    const __m128i raw = _mm_loadu_si128(reinterpret_cast<const __m128i*>(codes_ + 16 * g));
    const __m256i index = _mm256_and_si256(_mm256_set_m128i(raw, _mm_srli_epi16(raw, 4)), _mm256_set1_epi8(0x0F));
    return _mm256_shuffle_epi8(_mm512_castsi512_si256(table_), index);
  }
  float step(int64_t) {
    const float s = *scale_ * (1.0f / 127.0f);  // the step of the int8 code values
    if (--left_in_block_ == 0) {
      ++scale_;
      left_in_block_ = groups_per_block_;
    }
    return s;
  }

 private:
  const uint8_t* codes_;
  const float* scale_;  // the block of the next group
  int64_t left_in_block_;  // groups of it not yet used
  int64_t groups_per_block_;
  __m512i table_;
};

// INT8 rows: the row scale is applied once to the total, so every group's step is 1.
class Int8Source {
 public:
  Int8Source() = default;
  explicit Int8Source(const int8_t* q) : q_(q) {}
  const void* address(int64_t g) const { return q_ + 32 * g; }
  __m512i pair(int64_t g) const { return flip_signs(_mm512_loadu_si512(q_ + 32 * g)); }
  __m256i single(int64_t g) const {
    return flip_signs(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(q_ + 32 * g)));
  }
  float step(int64_t) const { return 1.0f; }

 private:
  const int8_t* q_ = nullptr;
};

// Q8_0: 34-byte blocks {f16 d; int8 q[32]}, one per group.
class Q8_0Source {
 public:
  Q8_0Source() = default;
  explicit Q8_0Source(const uint8_t* blocks) : blocks_(blocks) {}
  const void* address(int64_t g) const { return blocks_ + 34 * g; }
  __m512i pair(int64_t g) const {
    const __m512i both = _mm512_inserti64x4(_mm512_castsi256_si512(levels(g)), levels(g + 1), 1);
    return flip_signs(both);
  }
  __m256i single(int64_t g) const { return flip_signs(levels(g)); }
  float step(int64_t g) const {
    uint16_t d_bits;
    std::memcpy(&d_bits, blocks_ + 34 * g, 2);
    return _cvtsh_ss(d_bits);
  }

 private:
  __m256i levels(int64_t g) const {
    return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blocks_ + 34 * g + 2));
  }
  const uint8_t* blocks_ = nullptr;
};

// RW consecutive weight rows (sources[i]) against R input rows: out[r * out_stride + i] = Σ_g xd[r][g] · step_i(g)
// · Σ_{k in g} w_ik · xq[r][k], each chunk of activations loaded once for all RW rows when R is 1. Prefetches the rows two tiles ahead (row_bytes apart)
// as the 4-bit quads kernel does.
template <int RW, int R, class Source>
void q8_tile_vnni(Source* sources, int64_t row_bytes, const int8_t* xq, const float* xd,
                  const int32_t* lane_sums, int64_t n_in, float* out, int64_t out_stride) {
  const int64_t groups = n_in / 32;
  const int64_t lanes = n_in / 4;
  __m512 acc[RW][R];
#pragma GCC unroll 4
  for (int i = 0; i < RW; ++i) {
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) acc[i][r] = _mm512_setzero_ps();
  }
  constexpr int kRowsAhead = RW >= 4 ? 8 : 2 * RW;  // as in four_bit_quads_vnni
  int64_t g = 0;
  for (; g + 2 <= groups; g += 2) {
#pragma GCC unroll 1
    for (int i = 0; i < RW; ++i) {
      _mm_prefetch(static_cast<const char*>(sources[i].address(g)) + kRowsAhead * row_bytes, _MM_HINT_T0);
    }
#pragma GCC unroll 8
    for (int i = 0; i < RW; ++i) {
      const __m512i w = sources[i].pair(g);
      const float step0 = sources[i].step(g);
      const float step1 = sources[i].step(g + 1);
#pragma GCC unroll 4
      for (int r = 0; r < R; ++r) {
        const __m512i start = _mm512_loadu_si512(lane_sums + r * lanes + 8 * g);
        const __m512i sums = _mm512_dpbusd_epi32(start, w, _mm512_loadu_si512(xq + r * n_in + 32 * g));
        const float* d = xd + r * groups + g;
        acc[i][r] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sums), two_steps(d[0] * step0, d[1] * step1), acc[i][r]);
      }
    }
  }
  float tail[RW][R] = {};
  if (g < groups) {
    for (int i = 0; i < RW; ++i) {
      const __m256i w = sources[i].single(g);
      const float step0 = sources[i].step(g);
      for (int r = 0; r < R; ++r) {
        const __m256i start = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(lane_sums + r * lanes + 8 * g));
        const __m256i x = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xq + r * n_in + 32 * g));
        tail[i][r] = avx2::hsum(_mm256_cvtepi32_ps(_mm256_dpbusd_epi32(start, w, x))) * (xd[r * groups + g] * step0);
      }
    }
  }
  for (int i = 0; i < RW; ++i) {
    for (int r = 0; r < R; ++r) out[r * out_stride + i] = _mm512_reduce_add_ps(acc[i][r]) + tail[i][r];
  }
}

// n_weight_rows rows, make_source(j) the source of row j: 4 rows at a time, then one by one.
template <class MakeSource>
void q8_rows_in_tiles(MakeSource&& make_source, int64_t row_bytes, const int8_t* xq, const float* xd,
                      const int32_t* lane_sums, int64_t n_in, int64_t n_rows, int64_t n_weight_rows, float* out,
                      int64_t out_stride) {
  auto run = [&](auto RW, int64_t j) {
    using Source = decltype(make_source(j));
    Source sources[RW] = {};
    for (int i = 0; i < RW; ++i) sources[i] = make_source(j + i);
    for_row_tiles(n_rows, [&](auto R, int64_t r) {
      q8_tile_vnni<RW, R>(sources, row_bytes, xq + r * n_in, xd + r * (n_in / 32), lane_sums + r * (n_in / 4), n_in,
                          out + r * out_stride + j, out_stride);
    });
  };
  int64_t j = 0;
  if (n_rows == 1) {  // as in dot_4bit_q8_quads_vnni
    for (; j + 8 <= n_weight_rows; j += 8) run(std::integral_constant<int, 8>{}, j);
  }
  for (; j + 4 <= n_weight_rows; j += 4) run(std::integral_constant<int, 4>{}, j);
  for (; j < n_weight_rows; ++j) run(std::integral_constant<int, 1>{}, j);
}

// The 4-bit kernel on the chunk layout of Q8QuadActivations: a 64-byte run of codes (4 groups) decodes into the high
// nibbles (evens) and low nibbles (odds) of the 4 groups, which meet their activation levels without any permute; the
// two vpdpbusd accumulate into one vector whose lanes 4k..4k+3 belong to group k. Groups 0-1 of a chunk share one
// block and so do groups 2-3 (blocks of a power-of-two multiple of 64, rows starting at an even group), so lanes 0-7
// take one absmax and lanes 8-15 the next.
//
// RW consecutive weight rows (row_bytes apart) against R input rows; `group` is the first weight row's first group
// counted from the block `scales` points at. out[r * out_stride + i] = input row r · weight row i. Each weight row's
// sum is computed in the same order whatever RW and R are. With one input row the activations of a chunk are loaded
// once for all RW weight rows: 4 rows at a time decode ~1.4× faster than one (L1-resident harness, Zen 5).
template <int RW, int R>
void four_bit_quads_vnni(const uint8_t* codes, int64_t row_bytes, const float* scales, int64_t group,
                         int64_t groups_per_row, int block_shift, __m512i table, const int8_t* levels,
                         const int32_t* starts, const float* steps, int64_t n_in, float* out, int64_t out_stride) {
  const int64_t chunks = n_in / 128;
  const int64_t lanes = n_in / 4;  // starts and steps per input row
  const __m512i nibble = _mm512_set1_epi8(0x0F);
  __m512 acc[RW][R];
#pragma GCC unroll 8
  for (int i = 0; i < RW; ++i) {
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) acc[i][r] = _mm512_setzero_ps();
  }
  // The same line of the rows 8 rows ahead: two tiles of 4 rows, one of 8 (a tile of 4 rows of 2048 inputs is one
  // 4 KiB page, where the hardware prefetchers stop). Over TinyLlama's matrices from DRAM (2 threads, Zen 5), 4 rows
  // per pass: 29-31 GB/s of codes; one tile ahead 27-29, linear distances of 2-8 KiB 23-30, prefetches into L2 only
  // 23-29, none 20-23. 8 rows per pass, 8 ahead: 38-40 against 33-37 for 4 (session 6 harness).
  constexpr int kRowsAhead = RW >= 4 ? 8 : 2 * RW;
  for (int64_t c = 0; c < chunks; ++c) {
    // A loop, as in the dense kernels (kernels/x86_avx2/dense_kernels.cc).
#pragma GCC unroll 1
    for (int i = 0; i < RW; ++i) {
      _mm_prefetch(reinterpret_cast<const char*>(codes + (kRowsAhead + i) * row_bytes + 64 * c), _MM_HINT_T0);
    }
#pragma GCC unroll 8
    for (int i = 0; i < RW; ++i) {
      const uint8_t* row = codes + i * row_bytes + 64 * c;
      const __m512i raw = _mm512_loadu_si512(row);
      const __m512i evens = _mm512_shuffle_epi8(table, _mm512_and_si512(_mm512_srli_epi16(raw, 4), nibble));
      const __m512i odds = _mm512_shuffle_epi8(table, _mm512_and_si512(raw, nibble));
      const int64_t g = group + i * groups_per_row + 4 * c;
      const __m512 absmax = two_steps(scales[g >> block_shift], scales[(g + 2) >> block_shift]);
#pragma GCC unroll 4
      for (int r = 0; r < R; ++r) {
        const int8_t* x = levels + r * n_in + 128 * c;
        __m512i sums = _mm512_loadu_si512(starts + r * lanes + 16 * c);
        sums = _mm512_dpbusd_epi32(sums, evens, _mm512_loadu_si512(x));
        sums = _mm512_dpbusd_epi32(sums, odds, _mm512_loadu_si512(x + 64));
        const __m512 step = _mm512_mul_ps(absmax, _mm512_loadu_ps(steps + r * lanes + 16 * c));
        acc[i][r] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sums), step, acc[i][r]);
      }
    }
  }
  // The last groups (fewer than 4) in the evens-then-odds layout, one at a time.
  const __m256i nibble_256 = _mm256_set1_epi8(0x0F);
  for (int64_t g = 4 * chunks; g < n_in / 32; ++g) {
    const int64_t lane = 16 * chunks + 8 * (g - 4 * chunks);
    for (int i = 0; i < RW; ++i) {
      const __m128i raw = _mm_loadu_si128(reinterpret_cast<const __m128i*>(codes + i * row_bytes + 16 * g));
      const __m256i index = _mm256_and_si256(_mm256_set_m128i(raw, _mm_srli_epi16(raw, 4)), nibble_256);
      const __m256i w = _mm256_shuffle_epi8(_mm512_castsi512_si256(table), index);
      const float absmax = scales[(group + i * groups_per_row + g) >> block_shift];
      for (int r = 0; r < R; ++r) {
        const __m256i start = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(starts + r * lanes + lane));
        const __m256i x = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(levels + r * n_in + 32 * g));
        const __m512 sum = _mm512_castps256_ps512(_mm256_cvtepi32_ps(_mm256_dpbusd_epi32(start, w, x)));
        const __m512 step = _mm512_castps256_ps512(_mm256_mul_ps(_mm256_set1_ps(absmax),
                                                                 _mm256_loadu_ps(steps + r * lanes + lane)));
        acc[i][r] = _mm512_mask3_fmadd_ps(sum, step, acc[i][r], 0x00FF);  // lanes 8-15 unchanged
      }
    }
  }
  for (int i = 0; i < RW; ++i) {
    for (int r = 0; r < R; ++r) out[r * out_stride + i] = _mm512_reduce_add_ps(acc[i][r]);
  }
}

}  // namespace

void dot_4bit_q8_row(const uint8_t* codes, const float* scales, int64_t first_group, int64_t groups_per_block,
                          const int8_t* lut_i8, const int8_t* xq, const float* xd, const int32_t* lane_sums,
                          int64_t n_in, int64_t n_rows, float* out, int64_t out_stride) {
  for_row_tiles(n_rows, [&](auto R, int64_t r) {
    // Each tile walks the block scales from the row's start.
    FourBitSource source(codes, scales, first_group, groups_per_block, lut_i8);
    q8_tile_vnni<1, R>(&source, n_in / 2, xq + r * n_in, xd + r * (n_in / 32), lane_sums + r * (n_in / 4), n_in,
                       out + r * out_stride, out_stride);
  });
}

void dot_4bit_q8_quads(const uint8_t* codes, const float* scales, int64_t first_group, int block_shift,
                            const int8_t* lut_i8, const int8_t* levels, const int32_t* starts, const float* steps,
                            int64_t n_in, int64_t n_rows, int64_t n_weight_rows, float* out, int64_t out_stride) {
  const __m512i table = signed_table(lut_i8);
  const int64_t row_bytes = n_in / 2, groups_per_row = n_in / 32;
  auto run = [&](auto RW, int64_t j) {
    for_row_tiles(n_rows, [&](auto R, int64_t r) {
      four_bit_quads_vnni<RW, R>(codes + j * row_bytes, row_bytes, scales, first_group + j * groups_per_row,
                                 groups_per_row, block_shift, table, levels + r * n_in, starts + r * (n_in / 4),
                                 steps + r * (n_in / 4), n_in, out + r * out_stride + j, out_stride);
    });
  };
  int64_t j = 0;
  // One input row: 8 weight rows per pass keep more lines in flight (8 accumulators; 4 input rows would need 32).
  if (n_rows == 1) {
    for (; j + 8 <= n_weight_rows; j += 8) run(std::integral_constant<int, 8>{}, j);
  }
  for (; j + 4 <= n_weight_rows; j += 4) run(std::integral_constant<int, 4>{}, j);
  for (; j < n_weight_rows; ++j) run(std::integral_constant<int, 1>{}, j);
}

void dot_int8_q8_rows(const int8_t* q, const float* scales, const int8_t* xq, const float* xd,
                           const int32_t* lane_sums, int64_t n_in, int64_t n_rows, int64_t n_weight_rows, float* out,
                           int64_t out_stride) {
  q8_rows_in_tiles([&](int64_t j) { return Int8Source(q + j * n_in); }, n_in, xq, xd, lane_sums, n_in, n_rows,
                   n_weight_rows, out, out_stride);
  for (int64_t r = 0; r < n_rows; ++r) {
    for (int64_t j = 0; j < n_weight_rows; ++j) out[r * out_stride + j] *= scales[j];
  }
}

void dot_q8_0_q8_rows(const uint8_t* blocks, const int8_t* xq, const float* xd, const int32_t* lane_sums,
                           int64_t n_in, int64_t n_rows, int64_t n_weight_rows, float* out, int64_t out_stride) {
  const int64_t row_bytes = n_in / 32 * 34;
  q8_rows_in_tiles([&](int64_t j) { return Q8_0Source(blocks + j * row_bytes); }, row_bytes, xq, xd, lane_sums, n_in,
                   n_rows, n_weight_rows, out, out_stride);
}

}  // namespace pagedllm::avx512
