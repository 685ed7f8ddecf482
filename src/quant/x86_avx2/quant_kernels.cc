// AVX2+FMA decode kernels (see quant/quant_kernels.h). Compiled with -mavx2 -mfma -mf16c; entered only after
// has_avx2_fma_f16c().
#include <immintrin.h>

#include <cstring>

#include "quant/x86_avx2/quant_kernels.h"

#include "kernels/simd/avx2.h"
#include "quant/quant_kernels.h"
#include "quant/row_tiles.h"

namespace pagedllm::avx2 {
namespace {

inline __m256 load_8_int8_as_float(const void* p) {
  return _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64(static_cast<const __m128i*>(p))));
}

// 4-bit decode. 16 packed bytes (32 codes) per step: the high and low nibbles go to the two 128-bit lanes of one
// index register, four vpshufb look up the four byte planes of the fp32 code values, and two rounds of unpacks
// reassemble the floats as [even k..k+3 | odd k..k+3], [even k+4..k+7 | odd k+4..k+7], ... which is exactly the
// regrouped x layout at x_quads + 2k (k % 4 == 0). The code values are unscaled; each block's partial sum is
// multiplied by its absmax once.
struct BytePlanes {
  __m256i plane[4];
};

inline BytePlanes byte_planes(const float* lut) {
  alignas(16) uint8_t bytes[4][16];
  for (int c = 0; c < 16; ++c) {
    uint32_t bits;
    std::memcpy(&bits, lut + c, 4);
    for (int b = 0; b < 4; ++b) bytes[b][c] = static_cast<uint8_t>(bits >> (8 * b));
  }
  BytePlanes planes;
  for (int b = 0; b < 4; ++b) {
    planes.plane[b] = _mm256_broadcastsi128_si256(_mm_load_si128(reinterpret_cast<const __m128i*>(bytes[b])));
  }
  return planes;
}

struct Decoded32 {
  __m256 w[4];
};

inline Decoded32 decode_16_bytes(const uint8_t* p, const BytePlanes& planes) {
  const __m256i both = _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  // Lane 0 takes the high nibbles (even elements), lane 1 the low nibbles (odd elements).
  const __m256i index =
      _mm256_and_si256(_mm256_srlv_epi32(both, _mm256_setr_epi32(4, 4, 4, 4, 0, 0, 0, 0)), _mm256_set1_epi8(0x0F));
  const __m256i b0 = _mm256_shuffle_epi8(planes.plane[0], index);
  const __m256i b1 = _mm256_shuffle_epi8(planes.plane[1], index);
  const __m256i b2 = _mm256_shuffle_epi8(planes.plane[2], index);
  const __m256i b3 = _mm256_shuffle_epi8(planes.plane[3], index);
  const __m256i low01 = _mm256_unpacklo_epi8(b0, b1), high01 = _mm256_unpackhi_epi8(b0, b1);
  const __m256i low23 = _mm256_unpacklo_epi8(b2, b3), high23 = _mm256_unpackhi_epi8(b2, b3);
  return {{_mm256_castsi256_ps(_mm256_unpacklo_epi16(low01, low23)),
           _mm256_castsi256_ps(_mm256_unpackhi_epi16(low01, low23)),
           _mm256_castsi256_ps(_mm256_unpacklo_epi16(high01, high23)),
           _mm256_castsi256_ps(_mm256_unpackhi_epi16(high01, high23))}};
}

// Byte range [begin, end) of segment s of a row that starts first_offset elements into its first block.
struct Segment {
  int64_t begin;
  int64_t end;
};

inline Segment segment_bytes(int64_t s, int64_t block_size, int64_t first_offset, int64_t n_in) {
  const int64_t begin = s * block_size - first_offset;
  const int64_t end = (s + 1) * block_size - first_offset;
  return {(begin < 0 ? 0 : begin) / 2, (end > n_in ? n_in : end) / 2};
}

inline float scalar_pair(const uint8_t* codes, int64_t k, const float* lut, float scale, const float* x, int64_t n_in) {
  return lut[codes[k] >> 4] * scale * x[quad_even_index(k)] + lut[codes[k] & 0x0F] * scale * x[quad_odd_index(k, n_in)];
}

// R input rows. One row keeps two partial sums per block (FMA latency); more rows have enough independent work.
template <int R>
void dot_4bit_rows(const uint8_t* codes, const float* scales, int64_t block_size, int64_t first_offset,
                   const float* lut, const float* x_quads, int64_t n_in, float* out, int64_t out_stride) {
  constexpr int kChains = R == 1 ? 2 : 1;
  const BytePlanes planes = byte_planes(lut);
  const int64_t num_segments = (first_offset + n_in + block_size - 1) / block_size;
  __m256 acc[R];
  float tail[R];
  for (int r = 0; r < R; ++r) {
    acc[r] = _mm256_setzero_ps();
    tail[r] = 0.0f;
  }
  for (int64_t s = 0; s < num_segments; ++s) {
    const Segment seg = segment_bytes(s, block_size, first_offset, n_in);
    int64_t k = seg.begin;
    for (; k < seg.end && k % 4 != 0; ++k) {
      for (int r = 0; r < R; ++r) tail[r] += scalar_pair(codes, k, lut, scales[s], x_quads + r * n_in, n_in);
    }
    __m256 block[R][kChains];
    for (int r = 0; r < R; ++r) {
      for (int c = 0; c < kChains; ++c) block[r][c] = _mm256_setzero_ps();
    }
    for (; k + 16 <= seg.end; k += 16) {
      const Decoded32 d = decode_16_bytes(codes + k, planes);
#pragma GCC unroll 4
      for (int r = 0; r < R; ++r) {
        const float* x = x_quads + r * n_in + 2 * k;
#pragma GCC unroll 4
        for (int m = 0; m < 4; ++m) {
          block[r][m % kChains] = _mm256_fmadd_ps(d.w[m], _mm256_loadu_ps(x + 8 * m), block[r][m % kChains]);
        }
      }
    }
    const __m256 scale = _mm256_set1_ps(scales[s]);
    for (int r = 0; r < R; ++r) {
      const __m256 sum = kChains == 2 ? _mm256_add_ps(block[r][0], block[r][kChains - 1]) : block[r][0];
      acc[r] = _mm256_fmadd_ps(sum, scale, acc[r]);
    }
    for (; k < seg.end; ++k) {
      for (int r = 0; r < R; ++r) tail[r] += scalar_pair(codes, k, lut, scales[s], x_quads + r * n_in, n_in);
    }
  }
  for (int r = 0; r < R; ++r) out[r * out_stride] = hsum(acc[r]) + tail[r];
}

// The products of 32 int8 code values with 32 activations, summed in pairs of pairs to 8 int32 lanes, as fp32.
inline __m256 q8_dot(__m256i w, const int8_t* x) {
  const __m256i xv = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x));
  const __m256i pairs = _mm256_maddubs_epi16(_mm256_abs_epi8(w), _mm256_sign_epi8(xv, w));
  return _mm256_cvtepi32_ps(_mm256_madd_epi16(pairs, _mm256_set1_epi16(1)));
}

// Prefetch distance for the codes: the hardware prefetcher alone leaves the decode waiting on memory.
constexpr int64_t kCodePrefetchBytes = 2048;

// 4-bit codes against 8-bit activations, R input rows. Per 16 bytes of codes (one group of 32 values): the high
// nibbles (evens) go to lane 0 and the low nibbles (odds) to lane 1 of an index register, one vpshufb turns them
// into int8 code values, and vpmaddubsw on (|w|, sign(x, w)) with vpmaddwd sums the 32 products in int32 without
// overflow (|w|, |x| ≤ 127, so a pair is at most 2 · 127² < 2^15). The group's sum is scaled by its activation
// scale times its block's absmax / 127.
template <int R>
void dot_4bit_q8_rows(const uint8_t* codes, const float* scales, int64_t first_group, int64_t groups_per_block,
                      const int8_t* lut_i8, const int8_t* xq, const float* xd, int64_t n_in, float* out,
                      int64_t out_stride) {
  const __m256i table = _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(lut_i8)));
  const __m256i low_nibbles = _mm256_set1_epi8(0x0F);
  const int64_t groups = n_in / 32;
  // The block of the next group, and how many groups of it are left.
  const float* scale = scales;
  int64_t left_in_block = groups_per_block - first_group;
  const auto next_scale = [&] {
    const float s = *scale * (1.0f / 127.0f);  // the step of the int8 code values
    if (--left_in_block == 0) {
      ++scale;
      left_in_block = groups_per_block;
    }
    return s;
  };
  // Two sums per row (even and odd groups), so that consecutive groups do not wait on each other's FMA.
  __m256 even[R], odd[R];
  for (int r = 0; r < R; ++r) even[r] = odd[r] = _mm256_setzero_ps();
  int64_t g = 0;
  for (; g + 2 <= groups; g += 2) {
    _mm_prefetch(reinterpret_cast<const char*>(codes + 16 * g + kCodePrefetchBytes), _MM_HINT_T0);
    // 32 bytes = groups g and g + 1; rearrange the nibbles to [evens | odds] of each group.
    const __m256i raw = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(codes + 16 * g));
    const __m256i high = _mm256_and_si256(_mm256_srli_epi16(raw, 4), low_nibbles);
    const __m256i low = _mm256_and_si256(raw, low_nibbles);
    const __m256i w0 = _mm256_shuffle_epi8(table, _mm256_permute2x128_si256(high, low, 0x20));
    const __m256i w1 = _mm256_shuffle_epi8(table, _mm256_permute2x128_si256(high, low, 0x31));
    const float scale0 = next_scale();
    const float scale1 = next_scale();
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) {
      const int8_t* x = xq + r * n_in + 32 * g;
      const float* d = xd + r * groups + g;
      even[r] = _mm256_fmadd_ps(q8_dot(w0, x), _mm256_set1_ps(d[0] * scale0), even[r]);
      odd[r] = _mm256_fmadd_ps(q8_dot(w1, x + 32), _mm256_set1_ps(d[1] * scale1), odd[r]);
    }
  }
  if (g < groups) {
    const __m128i raw = _mm_loadu_si128(reinterpret_cast<const __m128i*>(codes + 16 * g));
    const __m256i index = _mm256_and_si256(_mm256_set_m128i(raw, _mm_srli_epi16(raw, 4)), low_nibbles);
    const __m256i w = _mm256_shuffle_epi8(table, index);
    const float scale0 = next_scale();
    for (int r = 0; r < R; ++r) {
      even[r] = _mm256_fmadd_ps(q8_dot(w, xq + r * n_in + 32 * g), _mm256_set1_ps(xd[r * groups + g] * scale0),
                                even[r]);
    }
  }
  for (int r = 0; r < R; ++r) out[r * out_stride] = hsum(_mm256_add_ps(even[r], odd[r]));
}

// INT8 rows / Q8_0 blocks against 8-bit activations in natural order, R input rows, two sums per row (even and
// odd groups) so that consecutive groups do not wait on each other's FMA.
template <int R>
void dot_int8_q8_rows(const int8_t* q, float scale, const int8_t* xq, const float* xd, int64_t n_in, float* out,
                      int64_t out_stride) {
  const int64_t groups = n_in / 32;
  __m256 even[R], odd[R];
  for (int r = 0; r < R; ++r) even[r] = odd[r] = _mm256_setzero_ps();
  int64_t g = 0;
  for (; g + 2 <= groups; g += 2) {
    _mm_prefetch(reinterpret_cast<const char*>(q + 32 * g + 2 * kCodePrefetchBytes), _MM_HINT_T0);
    const __m256i w0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q + 32 * g));
    const __m256i w1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q + 32 * g + 32));
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) {
      const int8_t* x = xq + r * n_in + 32 * g;
      const float* d = xd + r * groups + g;
      even[r] = _mm256_fmadd_ps(q8_dot(w0, x), _mm256_broadcast_ss(d), even[r]);
      odd[r] = _mm256_fmadd_ps(q8_dot(w1, x + 32), _mm256_broadcast_ss(d + 1), odd[r]);
    }
  }
  if (g < groups) {
    const __m256i w = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q + 32 * g));
    for (int r = 0; r < R; ++r) {
      even[r] = _mm256_fmadd_ps(q8_dot(w, xq + r * n_in + 32 * g), _mm256_broadcast_ss(xd + r * groups + g), even[r]);
    }
  }
  for (int r = 0; r < R; ++r) out[r * out_stride] = hsum(_mm256_add_ps(even[r], odd[r])) * scale;
}

template <int R>
void dot_q8_0_q8_rows(const uint8_t* blocks, const int8_t* xq, const float* xd, int64_t n_in, float* out,
                      int64_t out_stride) {
  const int64_t groups = n_in / 32;
  const auto weights = [&](int64_t b) {
    return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blocks + b * 34 + 2));
  };
  const auto block_scale = [&](int64_t b) {
    uint16_t d_bits;
    std::memcpy(&d_bits, blocks + b * 34, 2);
    return _cvtsh_ss(d_bits);
  };
  __m256 even[R], odd[R];
  for (int r = 0; r < R; ++r) even[r] = odd[r] = _mm256_setzero_ps();
  int64_t g = 0;
  for (; g + 2 <= groups; g += 2) {
    _mm_prefetch(reinterpret_cast<const char*>(blocks + g * 34 + 2 * kCodePrefetchBytes), _MM_HINT_T0);
    const __m256i w0 = weights(g), w1 = weights(g + 1);
    const float d0 = block_scale(g), d1 = block_scale(g + 1);
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) {
      const int8_t* x = xq + r * n_in + 32 * g;
      const float* d = xd + r * groups + g;
      even[r] = _mm256_fmadd_ps(q8_dot(w0, x), _mm256_set1_ps(d0 * d[0]), even[r]);
      odd[r] = _mm256_fmadd_ps(q8_dot(w1, x + 32), _mm256_set1_ps(d1 * d[1]), odd[r]);
    }
  }
  if (g < groups) {
    const __m256i w = weights(g);
    const float d0 = block_scale(g);
    for (int r = 0; r < R; ++r) {
      even[r] = _mm256_fmadd_ps(q8_dot(w, xq + r * n_in + 32 * g), _mm256_set1_ps(d0 * xd[r * groups + g]), even[r]);
    }
  }
  for (int r = 0; r < R; ++r) out[r * out_stride] = hsum(_mm256_add_ps(even[r], odd[r]));
}

// One input row: four accumulators over 32 values per step, so the FMA latency does not bound the loop.
void dot_int8_single_row(const int8_t* q, float scale, const float* x, int64_t n_in, float* out) {
  __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
  __m256 acc2 = _mm256_setzero_ps(), acc3 = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 32 <= n_in; i += 32) {
    acc0 = _mm256_fmadd_ps(load_8_int8_as_float(q + i), _mm256_loadu_ps(x + i), acc0);
    acc1 = _mm256_fmadd_ps(load_8_int8_as_float(q + i + 8), _mm256_loadu_ps(x + i + 8), acc1);
    acc2 = _mm256_fmadd_ps(load_8_int8_as_float(q + i + 16), _mm256_loadu_ps(x + i + 16), acc2);
    acc3 = _mm256_fmadd_ps(load_8_int8_as_float(q + i + 24), _mm256_loadu_ps(x + i + 24), acc3);
  }
  for (; i < n_in; i += 16) {
    acc0 = _mm256_fmadd_ps(load_8_int8_as_float(q + i), _mm256_loadu_ps(x + i), acc0);
    acc1 = _mm256_fmadd_ps(load_8_int8_as_float(q + i + 8), _mm256_loadu_ps(x + i + 8), acc1);
  }
  *out = hsum(_mm256_add_ps(_mm256_add_ps(acc0, acc1), _mm256_add_ps(acc2, acc3))) * scale;
}

template <int R>
void dot_int8_tile(const int8_t* q, float scale, const float* x, int64_t x_stride, int64_t n_in, float* out,
                   int64_t out_stride) {
  __m256 acc0[R], acc1[R];
  for (int r = 0; r < R; ++r) acc0[r] = acc1[r] = _mm256_setzero_ps();
  for (int64_t i = 0; i < n_in; i += 16) {
    const __m256 q0 = load_8_int8_as_float(q + i);
    const __m256 q1 = load_8_int8_as_float(q + i + 8);
    for (int r = 0; r < R; ++r) {
      acc0[r] = _mm256_fmadd_ps(q0, _mm256_loadu_ps(x + r * x_stride + i), acc0[r]);
      acc1[r] = _mm256_fmadd_ps(q1, _mm256_loadu_ps(x + r * x_stride + i + 8), acc1[r]);
    }
  }
  for (int r = 0; r < R; ++r) out[r * out_stride] = hsum(_mm256_add_ps(acc0[r], acc1[r])) * scale;
}

template <int R>
void dot_q8_0_tile(const uint8_t* blocks, const float* x, int64_t x_stride, int64_t n_in, float* out,
                   int64_t out_stride) {
  __m256 acc[R];
  for (int r = 0; r < R; ++r) acc[r] = _mm256_setzero_ps();
  const int64_t num_blocks = n_in / 32;
  for (int64_t b = 0; b < num_blocks; ++b) {
    const uint8_t* block = blocks + b * 34;
    uint16_t d_bits;
    std::memcpy(&d_bits, block, 2);
    const __m256 d = _mm256_set1_ps(_cvtsh_ss(d_bits));
    const __m256 q0 = load_8_int8_as_float(block + 2);
    const __m256 q1 = load_8_int8_as_float(block + 10);
    const __m256 q2 = load_8_int8_as_float(block + 18);
    const __m256 q3 = load_8_int8_as_float(block + 26);
    for (int r = 0; r < R; ++r) {
      const float* xb = x + r * x_stride + b * 32;
      const __m256 s01 = _mm256_fmadd_ps(q0, _mm256_loadu_ps(xb), _mm256_mul_ps(q1, _mm256_loadu_ps(xb + 8)));
      const __m256 s23 = _mm256_fmadd_ps(q2, _mm256_loadu_ps(xb + 16), _mm256_mul_ps(q3, _mm256_loadu_ps(xb + 24)));
      acc[r] = _mm256_fmadd_ps(_mm256_add_ps(s01, s23), d, acc[r]);
    }
  }
  for (int r = 0; r < R; ++r) out[r * out_stride] = hsum(acc[r]);
}

// lut[index] for 8 indices 0..15: two in-register 8-entry lookups, chosen by bit 3.
inline __m256 lookup16(__m256 lut_low, __m256 lut_high, __m256i index) {
  const __m256 high = _mm256_castsi256_ps(_mm256_cmpgt_epi32(index, _mm256_set1_epi32(7)));
  return _mm256_blendv_ps(_mm256_permutevar8x32_ps(lut_low, index), _mm256_permutevar8x32_ps(lut_high, index), high);
}

}  // namespace

void dot_4bit_row(const uint8_t* codes, const float* scales, int64_t block_size, int64_t first_offset,
                       const float* lut, const float* x_quads, int64_t n_in, int64_t n_rows, float* out,
                       int64_t out_stride) {
  for_row_tiles(n_rows, [&](auto R, int64_t r) {
    dot_4bit_rows<R>(codes, scales, block_size, first_offset, lut, x_quads + r * n_in, n_in, out + r * out_stride,
                     out_stride);
  });
}

void dot_4bit_q8_row(const uint8_t* codes, const float* scales, int64_t first_group, int64_t groups_per_block,
                          const int8_t* lut_i8, const int8_t* xq, const float* xd, int64_t n_in, int64_t n_rows,
                          float* out, int64_t out_stride) {
  for_row_tiles(n_rows, [&](auto R, int64_t r) {
    dot_4bit_q8_rows<R>(codes, scales, first_group, groups_per_block, lut_i8, xq + r * n_in, xd + r * (n_in / 32),
                        n_in, out + r * out_stride, out_stride);
  });
}

void dot_int8_q8_row(const int8_t* q, float scale, const int8_t* xq, const float* xd, int64_t n_in,
                          int64_t n_rows, float* out, int64_t out_stride) {
  for_row_tiles(n_rows, [&](auto R, int64_t r) {
    dot_int8_q8_rows<R>(q, scale, xq + r * n_in, xd + r * (n_in / 32), n_in, out + r * out_stride, out_stride);
  });
}

void dot_q8_0_q8_row(const uint8_t* blocks, const int8_t* xq, const float* xd, int64_t n_in, int64_t n_rows,
                          float* out, int64_t out_stride) {
  for_row_tiles(n_rows, [&](auto R, int64_t r) {
    dot_q8_0_q8_rows<R>(blocks, xq + r * n_in, xd + r * (n_in / 32), n_in, out + r * out_stride, out_stride);
  });
}

void dot_int8_row(const int8_t* q, float scale, const float* x, int64_t x_stride, int64_t n_in, int64_t n_rows,
                       float* out, int64_t out_stride) {
  for_row_tiles(n_rows, [&](auto R, int64_t r) {
    if constexpr (R == 1) {
      dot_int8_single_row(q, scale, x + r * x_stride, n_in, out + r * out_stride);
    } else {
      dot_int8_tile<R>(q, scale, x + r * x_stride, x_stride, n_in, out + r * out_stride, out_stride);
    }
  });
}

void dot_q8_0_row(const uint8_t* blocks, const float* x, int64_t x_stride, int64_t n_in, int64_t n_rows,
                       float* out, int64_t out_stride) {
  for_row_tiles(n_rows, [&](auto R, int64_t r) {
    dot_q8_0_tile<R>(blocks, x + r * x_stride, x_stride, n_in, out + r * out_stride, out_stride);
  });
}

void dequantize_4bit(const uint8_t* codes, int64_t n, const float* lut, float scale, float* out) {
  const __m256 lut_low = _mm256_loadu_ps(lut), lut_high = _mm256_loadu_ps(lut + 8), s = _mm256_set1_ps(scale);
  int64_t k = 0;  // code bytes done; 8 per step give 16 values
  for (; 2 * k + 16 <= n; k += 8) {
    uint64_t eight;
    std::memcpy(&eight, codes + k, 8);
    const __m256i bytes = _mm256_cvtepu8_epi32(_mm_cvtsi64_si128(static_cast<long long>(eight)));
    const __m256 evens = _mm256_mul_ps(lookup16(lut_low, lut_high, _mm256_srli_epi32(bytes, 4)), s);
    const __m256 odds = _mm256_mul_ps(lookup16(lut_low, lut_high, _mm256_and_si256(bytes, _mm256_set1_epi32(15))), s);
    // Interleave: [e0 o0 e1 o1 | e4 o4 e5 o5] and [e2 o2 e3 o3 | e6 o6 e7 o7], then put the 128-bit halves in order.
    const __m256 a = _mm256_unpacklo_ps(evens, odds), b = _mm256_unpackhi_ps(evens, odds);
    _mm256_storeu_ps(out + 2 * k, _mm256_permute2f128_ps(a, b, 0x20));
    _mm256_storeu_ps(out + 2 * k + 8, _mm256_permute2f128_ps(a, b, 0x31));
  }
  for (; 2 * k < n; ++k) {
    out[2 * k] = lut[codes[k] >> 4] * scale;
    out[2 * k + 1] = lut[codes[k] & 0x0F] * scale;
  }
}

}  // namespace pagedllm::avx2
