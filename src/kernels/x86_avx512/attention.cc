// GCC 12's AVX-512 headers initialise their "undefined" vectors from themselves, which -Wall reports once per
// intrinsic use (GCC bug 105593); nothing here reads an undefined value.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#include "kernels/x86_avx512/attention.h"

#include <immintrin.h>

#include <algorithm>
#include <limits>
#include <utility>

#include "kernels/x86_avx2/kv_convert.h"
#include "kernels/x86_avx512/bf16_pairs.h"
#include "kernels/x86_avx512/pack_buffer.h"
#include "kernels/x86_avx512/transpose.h"

namespace pagedllm::avx512 {
namespace {

static_assert(kPositionTile == 32, "a position tile is two 16-lane vectors of scores");
constexpr float kNegInf = -std::numeric_limits<float>::infinity();
constexpr int kScoreRows = 8;  // query rows per score pass: 16 accumulators, 2 key vectors, 1 broadcast
constexpr int kValueRows = 6;  // query rows per value pass: 24 accumulators, 4 value vectors, 1 broadcast
constexpr int kValueDims = 64;  // head dims per value pass: 4 vectors

__mmask16 lanes(int n) { return n >= 16 ? static_cast<__mmask16>(0xFFFF) : n <= 0 ? 0 : static_cast<__mmask16>((1u << n) - 1); }

// e^x for 16 lanes: Cephes' range reduction and degree-5 polynomial (the constants of exp256 in simd/avx2.h, within
// 2 ulp), 0 below ln(FLT_MIN) (so e^-inf = 0) and +inf above ln(FLT_MAX). Kept here, not shared with the AVX2 header,
// so that no AVX-512 copy of an inline function can stand in for a portable caller's.
__m512 exp16(__m512 x) {
  const __m512 hi = _mm512_set1_ps(88.7228391117f), lo = _mm512_set1_ps(-87.3365447504f);
  const __mmask16 overflow = _mm512_cmp_ps_mask(x, hi, _CMP_GT_OQ);
  const __mmask16 underflow = _mm512_cmp_ps_mask(x, lo, _CMP_LT_OQ);
  const __m512 xc = _mm512_min_ps(_mm512_max_ps(x, lo), hi);
  const __m512 fx = _mm512_roundscale_ps(_mm512_mul_ps(xc, _mm512_set1_ps(1.44269504088896341f)),
                                         _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmadd_ps(fx, _mm512_set1_ps(0.693359375f), xc);
  r = _mm512_fnmadd_ps(fx, _mm512_set1_ps(-2.12194440e-4f), r);
  __m512 p = _mm512_set1_ps(1.9875691500e-4f);
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3981999507e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894e-2f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459e-1f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201e-1f));
  __m512 y = _mm512_add_ps(_mm512_fmadd_ps(p, _mm512_mul_ps(r, r), r), _mm512_set1_ps(1.0f));
  // n ∈ [-126, 128] after the clamp; 2^128 is not a float, so it is applied as 2^min(n, 127) · 2^(n - min(n, 127)).
  const __m512i n = _mm512_cvtps_epi32(fx);
  const __m512i n_low = _mm512_min_epi32(n, _mm512_set1_epi32(127));
  const __m512i bias = _mm512_set1_epi32(127);
  const __m512 pow2_low = _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_add_epi32(n_low, bias), 23));
  const __m512 pow2_rest = _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_add_epi32(_mm512_sub_epi32(n, n_low), bias), 23));
  y = _mm512_mul_ps(_mm512_mul_ps(y, pow2_low), pow2_rest);
  y = _mm512_mask_mov_ps(y, overflow, _mm512_set1_ps(std::numeric_limits<float>::infinity()));
  return _mm512_maskz_mov_ps(static_cast<__mmask16>(~underflow), y);
}

// Up to 16 elements of a K or V row from d on, as fp32: fp32 rows are read as they are, bf16 ones are the top halves
// of fp32 words (exact). Masked-off lanes are 0 and read nothing.
template <bool kBf16>
__m512 load_row(const void* row, int d, __mmask16 mask) {
  if constexpr (kBf16) {
    const __m256i half = _mm256_maskz_loadu_epi16(mask, static_cast<const uint16_t*>(row) + d);
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(half), 16));
  } else {
    return _mm512_maskz_loadu_ps(mask, static_cast<const float*>(row) + d);
  }
}

// Row r is query token q_begin + r / group_size, head kv_head * group_size + r % group_size; it attends to positions
// 0 .. last[r]. PackBuffers, not std::vector: out-of-line vector code compiled here, with AVX-512 flags, could be the
// copy the linker keeps for the whole program (x86_avx512/pack_buffer.h).
struct GroupState {
  PackBuffer<const float*> q_buffer;
  PackBuffer<int64_t> last_buffer;
  PackBuffer<float> max_buffer, sum_buffer, acc_buffer, weights_buffer, keys_t_buffer, widened_buffer;
  const float** q;
  int64_t* last;
  float* max;      // running max of the scaled scores
  float* sum;      // running Σ exp(score - max)
  float* acc;      // (rows, head_dim) running Σ exp(score - max) · v
  float* weights;  // (rows, 32) the current tile's scores, then exp(score - max)
  float* keys_t;   // (head_dim, 32) the current tile's keys, transposed, zero past the tile
  float* widened;  // (2, 32, head_dim) fp8 K and V rows widened to fp32
  int rows;
};

// out[c · 32 + p] = load(keys[p], c)'s lane for c < columns, p < n, and 0 for n ≤ p < 32: a tile's key rows turned into
// columns of 32 positions, 16 columns at a time. load(row, c0, mask) gives 32-bit lanes c0 .. c0 + 15 of a row.
template <class Load>
inline __attribute__((always_inline)) void transpose_key_columns(const void* const* keys, int n, int columns,
                                                                 float* out, Load load) {
  for (int c0 = 0; c0 < columns; c0 += 16) {
    const int count = std::min(16, columns - c0);
    for (int half = 0; half < 2; ++half) {
      __m512 v[16];
#pragma GCC unroll 16
      for (int i = 0; i < 16; ++i) {
        const int p = 16 * half + i;
        v[i] = p < n ? load(keys[p], c0, lanes(count)) : _mm512_setzero_ps();
      }
      transpose_16x16(v);
#pragma GCC unroll 16
      for (int i = 0; i < count; ++i) _mm512_storeu_ps(out + (c0 + i) * kPositionTile + 16 * half, v[i]);
    }
  }
}

// keys_t[d · 32 + p] = K[p][d] for p < n, 0 for n ≤ p < 32.
template <bool kBf16>
void transpose_keys(const void* const* keys, int n, int head_dim, float* keys_t) {
  transpose_key_columns(keys, n, head_dim, keys_t,
                        [](const void* row, int d0, __mmask16 mask) { return load_row<kBf16>(row, d0, mask); });
}

// weights[(r0 + r) · 32 + p] = scale · acc[r] (positions 0-15, 16-31) for RC rows.
template <int RC>
inline __attribute__((always_inline)) void store_scores(const __m512 (&acc)[RC][2], int r0, float scale,
                                                        float* weights) {
  const __m512 vscale = _mm512_set1_ps(scale);
#pragma GCC unroll 8
  for (int r = 0; r < RC; ++r) {
    _mm512_storeu_ps(weights + (r0 + r) * kPositionTile, _mm512_mul_ps(acc[r][0], vscale));
    _mm512_storeu_ps(weights + (r0 + r) * kPositionTile + 16, _mm512_mul_ps(acc[r][1], vscale));
  }
}

// pairs_t[j · 32 + p] = the 32-bit word holding K[p][2j] (low half) and K[p][2j + 1] (high half) of bf16 keys
// for p < n, 0 for n ≤ p < 32 (head_dim even). Transposing the stored words, two dims each, takes half the loads and
// shuffles of transposing the keys widened; score_pair_rows widens them after.
void transpose_key_pairs(const void* const* keys, int n, int head_dim, uint32_t* pairs_t) {
  transpose_key_columns(keys, n, head_dim / 2, reinterpret_cast<float*>(pairs_t),
                        [](const void* row, int j0, __mmask16 mask) {
                          return _mm512_castsi512_ps(_mm512_maskz_loadu_epi32(mask, static_cast<const uint32_t*>(row) + j0));
                        });
}

// score_rows over transposed key pairs: each pair's words widen to the two dims' keys (exact), and every row sums
// its d in order by one fma each, so the scores have score_rows' bits.
template <int RC>
void score_pair_rows(const GroupState& st, int r0, const uint32_t* pairs_t, int head_dim, float scale,
                     float* weights) {
  __m512 acc[RC][2];
  const float* q[RC];
#pragma GCC unroll 8
  for (int r = 0; r < RC; ++r) acc[r][0] = acc[r][1] = _mm512_setzero_ps(), q[r] = st.q[r0 + r];
  for (int j = 0; j < head_dim / 2; ++j) {
    const __m512i w0 = _mm512_loadu_si512(pairs_t + j * kPositionTile);
    const __m512i w1 = _mm512_loadu_si512(pairs_t + j * kPositionTile + 16);
    const __m512 even0 = bf16_pair_low(w0), even1 = bf16_pair_low(w1);
    const __m512 odd0 = bf16_pair_high(w0), odd1 = bf16_pair_high(w1);
#pragma GCC unroll 8
    for (int r = 0; r < RC; ++r) {
      const __m512 q_even = _mm512_set1_ps(q[r][2 * j]), q_odd = _mm512_set1_ps(q[r][2 * j + 1]);
      acc[r][0] = _mm512_fmadd_ps(q_even, even0, acc[r][0]);
      acc[r][1] = _mm512_fmadd_ps(q_even, even1, acc[r][1]);
      acc[r][0] = _mm512_fmadd_ps(q_odd, odd0, acc[r][0]);
      acc[r][1] = _mm512_fmadd_ps(q_odd, odd1, acc[r][1]);
    }
  }
  store_scores<RC>(acc, r0, scale, weights);
}

// weights[r · 32 + p] = scale · Σ_d q_r[d] · K[p][d] for RC rows from r0, the d summed in order by one fma each.
template <int RC>
void score_rows(const GroupState& st, int r0, const float* keys_t, int head_dim, float scale, float* weights) {
  __m512 acc[RC][2];
  const float* q[RC];
#pragma GCC unroll 8
  for (int r = 0; r < RC; ++r) acc[r][0] = acc[r][1] = _mm512_setzero_ps(), q[r] = st.q[r0 + r];
  for (int d = 0; d < head_dim; ++d) {
    const __m512 k0 = _mm512_loadu_ps(keys_t + d * kPositionTile);
    const __m512 k1 = _mm512_loadu_ps(keys_t + d * kPositionTile + 16);
#pragma GCC unroll 8
    for (int r = 0; r < RC; ++r) {
      const __m512 qd = _mm512_set1_ps(q[r][d]);
      acc[r][0] = _mm512_fmadd_ps(qd, k0, acc[r][0]);
      acc[r][1] = _mm512_fmadd_ps(qd, k1, acc[r][1]);
    }
  }
  store_scores<RC>(acc, r0, scale, weights);
}

// acc_r[d0 : d0 + 64] += Σ_{p < n} weights[r · 32 + p] · V[p][d0 : d0 + 64] for RC rows from r0, positions in order.
template <bool kBf16, int RC>
void accumulate_rows(GroupState& st, int r0, const void* const* values, int n, int d0, int head_dim) {
  __mmask16 mask[4];
#pragma GCC unroll 8
  for (int j = 0; j < 4; ++j) mask[j] = lanes(head_dim - d0 - 16 * j);
  __m512 acc[RC][4];
#pragma GCC unroll 8
  for (int r = 0; r < RC; ++r) {
#pragma GCC unroll 8
    for (int j = 0; j < 4; ++j) {
      acc[r][j] = _mm512_maskz_loadu_ps(mask[j], st.acc + static_cast<int64_t>(r0 + r) * head_dim + d0 + 16 * j);
    }
  }
  const float* weights = st.weights + r0 * kPositionTile;
  for (int p = 0; p < n; ++p) {
    __m512 v[4];
#pragma GCC unroll 8
    for (int j = 0; j < 4; ++j) v[j] = load_row<kBf16>(values[p], d0 + 16 * j, mask[j]);
#pragma GCC unroll 6
    for (int r = 0; r < RC; ++r) {
      const __m512 w = _mm512_set1_ps(weights[r * kPositionTile + p]);
#pragma GCC unroll 8
      for (int j = 0; j < 4; ++j) acc[r][j] = _mm512_fmadd_ps(w, v[j], acc[r][j]);
    }
  }
#pragma GCC unroll 8
  for (int r = 0; r < RC; ++r) {
#pragma GCC unroll 8
    for (int j = 0; j < 4; ++j) {
      _mm512_mask_storeu_ps(st.acc + static_cast<int64_t>(r0 + r) * head_dim + d0 + 16 * j, mask[j], acc[r][j]);
    }
  }
}

template <int... RC>
void score_chunk(int rc, const GroupState& st, int r0, const float* keys_t, int head_dim, float scale,
                 float* weights, std::integer_sequence<int, RC...>) {
  ((rc == RC + 1 ? score_rows<RC + 1>(st, r0, keys_t, head_dim, scale, weights) : void()), ...);
}

template <int... RC>
void score_pair_chunk(int rc, const GroupState& st, int r0, const uint32_t* pairs_t, int head_dim, float scale,
                      float* weights, std::integer_sequence<int, RC...>) {
  ((rc == RC + 1 ? score_pair_rows<RC + 1>(st, r0, pairs_t, head_dim, scale, weights) : void()), ...);
}

template <bool kBf16, int... RC>
void accumulate_chunk(int rc, GroupState& st, int r0, const void* const* values, int n, int d0, int head_dim,
                      std::integer_sequence<int, RC...>) {
  ((rc == RC + 1 ? accumulate_rows<kBf16, RC + 1>(st, r0, values, n, d0, head_dim) : void()), ...);
}

// The online-softmax step of row r over the tile's scores (its first n_r positions are causal for it): rescales its
// accumulators, leaves exp(score - max) in its weights (0 past n_r).
void softmax_row(GroupState& st, int r, int n_r, int head_dim) {
  float* w = st.weights + r * kPositionTile;
  if (n_r <= 0) {  // the tile lies past this row's query position: it contributes nothing
    _mm512_storeu_ps(w, _mm512_setzero_ps());
    _mm512_storeu_ps(w + 16, _mm512_setzero_ps());
    return;
  }
  const __m512 neg_inf = _mm512_set1_ps(kNegInf);
  const __m512 s0 = _mm512_mask_loadu_ps(neg_inf, lanes(n_r), w);
  const __m512 s1 = _mm512_mask_loadu_ps(neg_inf, lanes(n_r - 16), w + 16);
  const float new_max = std::max(st.max[r], _mm512_reduce_max_ps(_mm512_max_ps(s0, s1)));
  const float correction = _mm512_cvtss_f32(exp16(_mm512_set1_ps(st.max[r] - new_max)));
  if (correction != 1.0f) {
    float* acc = st.acc + static_cast<int64_t>(r) * head_dim;
    const __m512 c = _mm512_set1_ps(correction);
    for (int d = 0; d < head_dim; d += 16) {
      const __mmask16 m = lanes(head_dim - d);
      _mm512_mask_storeu_ps(acc + d, m, _mm512_mul_ps(_mm512_maskz_loadu_ps(m, acc + d), c));
    }
  }
  const __m512 m = _mm512_set1_ps(new_max);
  const __m512 w0 = exp16(_mm512_sub_ps(s0, m)), w1 = exp16(_mm512_sub_ps(s1, m));
  _mm512_storeu_ps(w, w0);
  _mm512_storeu_ps(w + 16, w1);
  st.sum[r] = st.sum[r] * correction + _mm512_reduce_add_ps(_mm512_add_ps(w0, w1));
  st.max[r] = new_max;
}

int64_t row_bytes_of(const PagedAttentionArgs& a) {
  return a.head_dim * static_cast<int64_t>(kv_cache_dtype_size(a.kv_dtype));
}

// Into L2, not L1: a tile's 128 lines in flight at once fill L1's miss buffers and stall the loads of the tile
// being computed (measured: T0 slower than T1).
void prefetch_rows(const void* const* keys, const void* const* values, int64_t n, int64_t row_bytes) {
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t offset = 0; offset < row_bytes; offset += 64) {
      _mm_prefetch(static_cast<const char*>(keys[i]) + offset, _MM_HINT_T1);
      _mm_prefetch(static_cast<const char*>(values[i]) + offset, _MM_HINT_T1);
    }
  }
}

template <bool kBf16>
void attend_tile(const PagedAttentionArgs& a, const void* const* keys, const void* const* values, int64_t p0,
                 int64_t p1, GroupState& st) {
  const int n = static_cast<int>(p1 - p0), rows = st.rows;
  if (kBf16 && a.head_dim % 2 == 0) {
    auto* pairs_t = reinterpret_cast<uint32_t*>(st.keys_t);  // head_dim / 2 × 32 words fit its head_dim × 32 floats
    transpose_key_pairs(keys, n, a.head_dim, pairs_t);
    for (int r0 = 0; r0 < rows; r0 += kScoreRows) {
      score_pair_chunk(std::min(kScoreRows, rows - r0), st, r0, pairs_t, a.head_dim, a.scale, st.weights,
                       std::make_integer_sequence<int, kScoreRows>());
    }
  } else {
    transpose_keys<kBf16>(keys, n, a.head_dim, st.keys_t);
    for (int r0 = 0; r0 < rows; r0 += kScoreRows) {
      score_chunk(std::min(kScoreRows, rows - r0), st, r0, st.keys_t, a.head_dim, a.scale, st.weights,
                  std::make_integer_sequence<int, kScoreRows>());
    }
  }
  for (int r = 0; r < rows; ++r) softmax_row(st, r, static_cast<int>(std::min(p1, st.last[r] + 1) - p0), a.head_dim);
  for (int r0 = 0; r0 < rows; r0 += kValueRows) {
    const int rc = std::min(kValueRows, rows - r0);
    // Positions past a row's query have weight 0; the chunk runs to its latest row's last position.
    const int chunk_n = static_cast<int>(std::clamp<int64_t>(st.last[r0 + rc - 1] + 1 - p0, 0, n));
    for (int d0 = 0; d0 < a.head_dim; d0 += kValueDims) {
      accumulate_chunk<kBf16>(rc, st, r0, values, chunk_n, d0, a.head_dim,
                              std::make_integer_sequence<int, kValueRows>());
    }
  }
}

}  // namespace

void paged_attention_group(const PagedAttentionArgs& a, int seq, int kv_head, int32_t q_begin, int32_t q_end) {
  const int group = a.group_size();
  const int64_t history = a.seq_lens[seq] - a.q_len(seq);
  const int rows = (q_end - q_begin) * group;
  thread_local GroupState st;
  st.rows = rows;
  st.q = st.q_buffer.get(rows);
  st.last = st.last_buffer.get(rows);
  st.max = st.max_buffer.get(rows);
  st.sum = st.sum_buffer.get(rows);
  st.acc = st.acc_buffer.get(static_cast<int64_t>(rows) * a.head_dim);
  st.weights = st.weights_buffer.get(static_cast<int64_t>(rows) * kPositionTile);
  st.keys_t = st.keys_t_buffer.get(static_cast<int64_t>(a.head_dim) * kPositionTile);
  for (int r = 0; r < rows; ++r) st.max[r] = kNegInf, st.sum[r] = 0.0f;
  for (int64_t i = 0; i < static_cast<int64_t>(rows) * a.head_dim; ++i) st.acc[i] = 0.0f;
  for (int r = 0; r < rows; ++r) {
    const int64_t token = a.query_start[seq] + q_begin + r / group;
    const int head = kv_head * group + r % group;
    st.q[r] = a.q + (token * a.n_heads + head) * a.head_dim;
    st.last[r] = history + q_begin + r / group;
  }
  const bool bf16 = a.kv_dtype == KVCacheDType::kBFloat16;
  const bool widen = a.kv_dtype != KVCacheDType::kFloat32 && !bf16;  // fp8: widened into fp32 rows first
  if (widen) st.widened = st.widened_buffer.get(int64_t{2} * kPositionTile * a.head_dim);
  const int64_t end = history + q_end;
  const int64_t row_bytes = row_bytes_of(a);
  const void* keys[kPositionTile];
  const void* values[kPositionTile];
  const void* next_keys[kPositionTile];
  const void* next_values[kPositionTile];
  tile_row_pointers(a, seq, kv_head, 0, std::min(end, int64_t{kPositionTile}), next_keys, next_values);
  for (int64_t p0 = 0; p0 < end; p0 += kPositionTile) {
    const int64_t p1 = std::min(end, p0 + kPositionTile);
    for (int64_t i = 0; i < p1 - p0; ++i) keys[i] = next_keys[i], values[i] = next_values[i];
    // The next tile's rows are requested now and arrive while this one computes: a served batch's cache is far
    // larger than the last-level cache, its blocks are scattered, and each row is a head_dim slice n_kv_heads
    // slices apart, which the hardware prefetchers do not follow.
    const int64_t next_end = std::min(end, p1 + kPositionTile);
    tile_row_pointers(a, seq, kv_head, p1, next_end, next_keys, next_values);
    prefetch_rows(next_keys, next_values, next_end - p1, row_bytes);
    for (int64_t i = 0; widen && i < p1 - p0; ++i) {
      float* k = st.widened + i * a.head_dim;
      float* v = st.widened + (kPositionTile + i) * a.head_dim;
      avx2::kv_to_f32(keys[i], k, a.head_dim, a.kv_dtype, a.k_scale);
      avx2::kv_to_f32(values[i], v, a.head_dim, a.kv_dtype, a.v_scale);
      keys[i] = k;
      values[i] = v;
    }
    if (bf16) {
      attend_tile<true>(a, keys, values, p0, p1, st);
    } else {
      attend_tile<false>(a, keys, values, p0, p1, st);
    }
  }
  for (int r = 0; r < rows; ++r) {
    const float* acc = st.acc + static_cast<int64_t>(r) * a.head_dim;
    float* out = a.out + (st.q[r] - a.q);
    const __m512 inv = _mm512_set1_ps(1.0f / st.sum[r]);
    for (int d = 0; d < a.head_dim; d += 16) {
      const __mmask16 m = lanes(a.head_dim - d);
      _mm512_mask_storeu_ps(out + d, m, _mm512_mul_ps(_mm512_maskz_loadu_ps(m, acc + d), inv));
    }
  }
}

void paged_attention(const PagedAttentionArgs& a) {
  for (int s = 0; s < a.num_seqs; ++s) {
    for (int g = 0; g < a.n_kv_heads; ++g) {
      const int32_t q_len = a.q_len(s);
      const int32_t step = queries_per_group(a.group_size());
      for (int32_t i = 0; i < q_len; i += step) paged_attention_group(a, s, g, i, std::min(q_len, i + step));
    }
  }
}

}  // namespace pagedllm::avx512
