#include "kernels/x86_avx2/attention.h"

#include <algorithm>
#include <limits>
#include <vector>

#include "kernels/simd/avx2.h"
#include "kernels/x86_avx2/kv_convert.h"

namespace pagedllm::avx2 {
namespace {

constexpr float kNegInf = -std::numeric_limits<float>::infinity();

inline float dot(const float* a, const float* b, int n) {
  __m256 s0 = _mm256_setzero_ps();
  __m256 s1 = _mm256_setzero_ps();
  int k = 0;
  for (; k + 16 <= n; k += 16) {
    s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + k), _mm256_loadu_ps(b + k), s0);
    s1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + k + 8), _mm256_loadu_ps(b + k + 8), s1);
  }
  if (k + 8 <= n) {
    s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + k), _mm256_loadu_ps(b + k), s0);
    k += 8;
  }
  float sum = hsum(_mm256_add_ps(s0, s1));
  for (; k < n; ++k) sum += a[k] * b[k];
  return sum;
}

// s[j] = scale · (q · keys[j]) for j < num_positions. Groups of 8 positions keep 8 vector accumulators and reduce
// them together with a hadd tree into one vector of 8 scores (one reduction per 8 dot products, not 8).
void scores(float* s, const float* q, const float* const* keys, int num_positions, int head_dim, float scale) {
  const int vec_dim = head_dim / 8 * 8;
  const __m256 vscale = _mm256_set1_ps(scale);
  int p = 0;
  for (; p + 8 <= num_positions && vec_dim > 0; p += 8) {
    __m256 acc[8];
    for (int j = 0; j < 8; ++j) acc[j] = _mm256_setzero_ps();
    for (int d = 0; d < vec_dim; d += 8) {
      __m256 qv = _mm256_loadu_ps(q + d);
#pragma GCC unroll 8
      for (int j = 0; j < 8; ++j) acc[j] = _mm256_fmadd_ps(qv, _mm256_loadu_ps(keys[p + j] + d), acc[j]);
    }
    // Lanes of s0123: [Σ0..Σ3 of the low halves | Σ0..Σ3 of the high halves]; likewise s4567 for positions 4..7.
    __m256 s0123 = _mm256_hadd_ps(_mm256_hadd_ps(acc[0], acc[1]), _mm256_hadd_ps(acc[2], acc[3]));
    __m256 s4567 = _mm256_hadd_ps(_mm256_hadd_ps(acc[4], acc[5]), _mm256_hadd_ps(acc[6], acc[7]));
    __m256 sums = _mm256_add_ps(_mm256_permute2f128_ps(s0123, s4567, 0x20), _mm256_permute2f128_ps(s0123, s4567, 0x31));
    _mm256_storeu_ps(s + p, _mm256_mul_ps(sums, vscale));
    for (int j = 0; j < 8; ++j) {
      float tail = 0.0f;
      for (int d = vec_dim; d < head_dim; ++d) tail += q[d] * keys[p + j][d];
      s[p + j] += tail * scale;
    }
  }
  for (; p < num_positions; ++p) s[p] = dot(q, keys[p], head_dim) * scale;
}

inline void scale_row(float* x, int n, float factor) {
  __m256 f = _mm256_set1_ps(factor);
  int k = 0;
  for (; k + 8 <= n; k += 8) _mm256_storeu_ps(x + k, _mm256_mul_ps(_mm256_loadu_ps(x + k), f));
  for (; k < n; ++k) x[k] *= factor;
}

// acc[0:n] += Σ_p w[p] · v[p][0:n] for p < num_positions, keeping 32 accumulator columns in registers.
inline void accumulate_values(float* acc, int n, const float* w, const float* const* v, int num_positions) {
  int d = 0;
  for (; d + 32 <= n; d += 32) {
    __m256 a0 = _mm256_loadu_ps(acc + d), a1 = _mm256_loadu_ps(acc + d + 8);
    __m256 a2 = _mm256_loadu_ps(acc + d + 16), a3 = _mm256_loadu_ps(acc + d + 24);
    for (int p = 0; p < num_positions; ++p) {
      __m256 wp = _mm256_broadcast_ss(w + p);
      a0 = _mm256_fmadd_ps(wp, _mm256_loadu_ps(v[p] + d), a0);
      a1 = _mm256_fmadd_ps(wp, _mm256_loadu_ps(v[p] + d + 8), a1);
      a2 = _mm256_fmadd_ps(wp, _mm256_loadu_ps(v[p] + d + 16), a2);
      a3 = _mm256_fmadd_ps(wp, _mm256_loadu_ps(v[p] + d + 24), a3);
    }
    _mm256_storeu_ps(acc + d, a0);
    _mm256_storeu_ps(acc + d + 8, a1);
    _mm256_storeu_ps(acc + d + 16, a2);
    _mm256_storeu_ps(acc + d + 24, a3);
  }
  for (; d + 8 <= n; d += 8) {
    __m256 a0 = _mm256_loadu_ps(acc + d);
    for (int p = 0; p < num_positions; ++p) a0 = _mm256_fmadd_ps(_mm256_broadcast_ss(w + p), _mm256_loadu_ps(v[p] + d), a0);
    _mm256_storeu_ps(acc + d, a0);
  }
  for (; d < n; ++d) {
    float sum = acc[d];
    for (int p = 0; p < num_positions; ++p) sum += w[p] * v[p][d];
    acc[d] = sum;
  }
}

// Same row layout as the generic kernel: row r is query token q_begin + r / group_size, head
// kv_head * group_size + r % group_size, attending to positions 0 .. last[r].
struct GroupState {
  std::vector<const float*> q;
  std::vector<int64_t> last;
  std::vector<float> max;
  std::vector<float> sum;
  std::vector<float> acc;     // (rows, head_dim)
  std::vector<float> scores;  // (rows, kPositionTile)
  std::vector<float> widened;  // (2, kPositionTile, head_dim) the tile's K and V rows widened to fp32
};

void attend_tile(const PagedAttentionArgs& a, int seq, int kv_head, int64_t p0, int64_t p1, GroupState& st) {
  const float* keys[kPositionTile];
  const float* values[kPositionTile];
  tile_rows(a, seq, kv_head, p0, p1, keys, values, st.widened.data(), &avx2::kv_to_f32);
  int rows = static_cast<int>(st.q.size());
  for (int r = 0; r < rows; ++r) {
    int n = static_cast<int>(std::min(p1, st.last[r] + 1) - p0);
    if (n <= 0) continue;
    float* s = st.scores.data() + r * kPositionTile;
    scores(s, st.q[r], keys, n, a.head_dim, a.scale);
    for (int p = n; p < kPositionTile; ++p) s[p] = kNegInf;
    __m256 vmax = _mm256_set1_ps(kNegInf);
    for (int p = 0; p < kPositionTile; p += 8) vmax = _mm256_max_ps(vmax, _mm256_loadu_ps(s + p));
    float new_max = std::max(st.max[r], hmax(vmax));
    float correction = _mm256_cvtss_f32(exp256(_mm256_set1_ps(st.max[r] - new_max)));
    float* acc = st.acc.data() + static_cast<int64_t>(r) * a.head_dim;
    if (correction != 1.0f) scale_row(acc, a.head_dim, correction);
    __m256 m = _mm256_set1_ps(new_max);
    __m256 vsum = _mm256_setzero_ps();
    for (int p = 0; p < kPositionTile; p += 8) {
      __m256 w = exp256(_mm256_sub_ps(_mm256_loadu_ps(s + p), m));
      _mm256_storeu_ps(s + p, w);
      vsum = _mm256_add_ps(vsum, w);
    }
    st.sum[r] = st.sum[r] * correction + hsum(vsum);
    st.max[r] = new_max;
    accumulate_values(acc, a.head_dim, s, values, n);
  }
}

}  // namespace

void paged_attention_group(const PagedAttentionArgs& a, int seq, int kv_head, int32_t q_begin, int32_t q_end) {
  int group = a.group_size();
  int64_t history = a.seq_lens[seq] - a.q_len(seq);
  int rows = (q_end - q_begin) * group;
  thread_local GroupState st;
  st.q.resize(rows);
  st.last.resize(rows);
  st.max.assign(rows, kNegInf);
  st.sum.assign(rows, 0.0f);
  st.acc.assign(static_cast<size_t>(rows) * a.head_dim, 0.0f);
  st.scores.resize(static_cast<size_t>(rows) * kPositionTile);
  if (a.kv_dtype != KVCacheDType::kFloat32) st.widened.resize(size_t{2} * kPositionTile * a.head_dim);
  for (int r = 0; r < rows; ++r) {
    int64_t token = a.query_start[seq] + q_begin + r / group;
    int head = kv_head * group + r % group;
    st.q[r] = a.q + (token * a.n_heads + head) * a.head_dim;
    st.last[r] = history + q_begin + r / group;
  }
  int64_t end = history + q_end;
  for (int64_t p0 = 0; p0 < end; p0 += kPositionTile) attend_tile(a, seq, kv_head, p0, std::min(end, p0 + kPositionTile), st);
  for (int r = 0; r < rows; ++r) {
    float* out = a.out + (st.q[r] - a.q);
    scale_row(st.acc.data() + static_cast<int64_t>(r) * a.head_dim, a.head_dim, 1.0f / st.sum[r]);
    std::copy_n(st.acc.data() + static_cast<int64_t>(r) * a.head_dim, a.head_dim, out);
  }
}

void paged_attention(const PagedAttentionArgs& a) {
  for (int s = 0; s < a.num_seqs; ++s) {
    for (int g = 0; g < a.n_kv_heads; ++g) {
      int32_t q_len = a.q_len(s);
      int32_t step = queries_per_group(a.group_size());
      for (int32_t i = 0; i < q_len; i += step) paged_attention_group(a, s, g, i, std::min(q_len, i + step));
    }
  }
}

}  // namespace pagedllm::avx2
