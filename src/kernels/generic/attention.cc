#include "kernels/generic/attention.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "kernels/kv_convert.h"

namespace pagedllm::generic {
namespace {

// Online-softmax state of the rows of one group. Row r is query token q_begin + r / group_size, head
// kv_head * group_size + r % group_size; it attends to positions 0 .. last[r].
struct GroupState {
  std::vector<const float*> q;
  std::vector<int64_t> last;
  std::vector<float> max;     // running max of the scaled scores
  std::vector<float> sum;     // running Σ exp(score - max)
  std::vector<float> acc;     // (rows, head_dim) running Σ exp(score - max) · v
  std::vector<float> scores;  // (rows, kPositionTile) scores, then weights, of the current tile
  std::vector<float> widened;  // (2, kPositionTile, head_dim) the tile's K and V rows widened to fp32
};

void attend_tile(const PagedAttentionArgs& a, int seq, int kv_head, int64_t p0, int64_t p1, GroupState& st) {
  const float* keys[kPositionTile];
  const float* values[kPositionTile];
  tile_rows(a, seq, kv_head, p0, p1, keys, values, st.widened.data(), &kv_to_f32);
  int rows = static_cast<int>(st.q.size());
  for (int r = 0; r < rows; ++r) {
    int64_t end = std::min(p1, st.last[r] + 1);
    if (end <= p0) continue;
    float* s = st.scores.data() + r * kPositionTile;
    float tile_max = -std::numeric_limits<float>::infinity();
    for (int64_t p = p0; p < end; ++p) {
      const float* k = keys[p - p0];
      float dot = 0.0f;
      for (int d = 0; d < a.head_dim; ++d) dot += st.q[r][d] * k[d];
      s[p - p0] = dot * a.scale;
      tile_max = std::max(tile_max, s[p - p0]);
    }
    float new_max = std::max(st.max[r], tile_max);
    float correction = std::exp(st.max[r] - new_max);
    float* acc = st.acc.data() + static_cast<int64_t>(r) * a.head_dim;
    st.sum[r] *= correction;
    for (int d = 0; d < a.head_dim; ++d) acc[d] *= correction;
    for (int64_t p = p0; p < end; ++p) {
      float weight = std::exp(s[p - p0] - new_max);
      st.sum[r] += weight;
      const float* v = values[p - p0];
      for (int d = 0; d < a.head_dim; ++d) acc[d] += weight * v[d];
    }
    st.max[r] = new_max;
  }
}

}  // namespace

void paged_attention_group(const PagedAttentionArgs& a, int seq, int kv_head, int32_t q_begin, int32_t q_end) {
  int group = a.group_size();
  int64_t history = a.seq_lens[seq] - a.q_len(seq);
  int rows = (q_end - q_begin) * group;
  GroupState st;
  st.q.resize(rows);
  st.last.resize(rows);
  st.max.assign(rows, -std::numeric_limits<float>::infinity());
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
    const float* acc = st.acc.data() + static_cast<int64_t>(r) * a.head_dim;
    for (int d = 0; d < a.head_dim; ++d) out[d] = acc[d] / st.sum[r];
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

}  // namespace pagedllm::generic
