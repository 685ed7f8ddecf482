#include "train/causal_attention.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "util/error.h"
#include "util/thread_pool.h"

namespace pagedllm {
namespace {

template <typename T>
T dot(const T* a, const T* b, int n) {
  T sum = 0;
  for (int i = 0; i < n; ++i) sum += a[i] * b[i];
  return sum;
}

void check_shape(const AttentionShape& s) {
  PAGEDLLM_CHECK(s.n_heads > 0 && s.n_kv_heads > 0 && s.head_dim > 0);
  PAGEDLLM_CHECK_MSG(s.n_heads % s.n_kv_heads == 0, "n_heads {} not a multiple of n_kv_heads {}", s.n_heads,
                     s.n_kv_heads);
}

}  // namespace

template <typename T>
void causal_attention_forward(T* out, T* lse, const T* q, const T* k, const T* v, const AttentionShape& shape) {
  check_shape(shape);
  const int64_t T_len = shape.seq_len;
  const int hd = shape.head_dim;
  const int group = shape.n_heads / shape.n_kv_heads;
  const T scale = T(1) / std::sqrt(static_cast<T>(hd));
  const int64_t q_stride = static_cast<int64_t>(shape.n_heads) * hd;
  const int64_t kv_stride = static_cast<int64_t>(shape.n_kv_heads) * hd;
  // One task per (sequence, head): rows of out and lse have exactly one writer.
  parallel_for(shape.n_seqs * shape.n_heads, 1, [&](int64_t begin, int64_t end) {
    std::vector<T> scores(T_len);
    for (int64_t task = begin; task < end; ++task) {
      const int64_t s = task / shape.n_heads;
      const int h = static_cast<int>(task % shape.n_heads);
      const int kvh = h / group;
      for (int64_t t = 0; t < T_len; ++t) {
        const int64_t row = s * T_len + t;
        const T* qt = q + row * q_stride + h * hd;
        T max_score = -std::numeric_limits<T>::infinity();
        for (int64_t j = 0; j <= t; ++j) {
          scores[j] = scale * dot(qt, k + (s * T_len + j) * kv_stride + kvh * hd, hd);
          max_score = std::max(max_score, scores[j]);
        }
        T sum = 0;
        for (int64_t j = 0; j <= t; ++j) {
          scores[j] = std::exp(scores[j] - max_score);
          sum += scores[j];
        }
        T* ot = out + row * q_stride + h * hd;
        std::fill(ot, ot + hd, T(0));
        for (int64_t j = 0; j <= t; ++j) {
          const T p = scores[j] / sum;
          const T* vj = v + (s * T_len + j) * kv_stride + kvh * hd;
          for (int i = 0; i < hd; ++i) ot[i] += p * vj[i];
        }
        lse[row * shape.n_heads + h] = max_score + std::log(sum);
      }
    }
  });
}

// Per query row: p_j = exp(scale·q·k_j − lse), dp_j = dout·v_j, D = Σ p_j dp_j = dout·out,
// ds_j = p_j (dp_j − D); dq = scale Σ ds_j k_j, dk_j += scale ds_j q, dv_j += p_j dout.
// One task per (sequence, kv head) so that dk and dv rows have one writer; the task owns every query head of its
// group, hence dq too.
template <typename T>
void causal_attention_backward(T* dq, T* dk, T* dv, const T* dout, const T* q, const T* k, const T* v, const T* out,
                               const T* lse, const AttentionShape& shape) {
  check_shape(shape);
  const int64_t T_len = shape.seq_len;
  const int hd = shape.head_dim;
  const int group = shape.n_heads / shape.n_kv_heads;
  const T scale = T(1) / std::sqrt(static_cast<T>(hd));
  const int64_t q_stride = static_cast<int64_t>(shape.n_heads) * hd;
  const int64_t kv_stride = static_cast<int64_t>(shape.n_kv_heads) * hd;
  parallel_for(shape.n_seqs * shape.n_kv_heads, 1, [&](int64_t begin, int64_t end) {
    for (int64_t task = begin; task < end; ++task) {
      const int64_t s = task / shape.n_kv_heads;
      const int kvh = static_cast<int>(task % shape.n_kv_heads);
      for (int64_t j = 0; j < T_len; ++j) {
        std::fill_n(dk + (s * T_len + j) * kv_stride + kvh * hd, hd, T(0));
        std::fill_n(dv + (s * T_len + j) * kv_stride + kvh * hd, hd, T(0));
      }
      for (int h = kvh * group; h < (kvh + 1) * group; ++h) {
        for (int64_t t = 0; t < T_len; ++t) {
          const int64_t row = s * T_len + t;
          const T* qt = q + row * q_stride + h * hd;
          const T* dot_t = dout + row * q_stride + h * hd;
          const T D = dot(dot_t, out + row * q_stride + h * hd, hd);
          const T row_lse = lse[row * shape.n_heads + h];
          T* dqt = dq + row * q_stride + h * hd;
          std::fill(dqt, dqt + hd, T(0));
          for (int64_t j = 0; j <= t; ++j) {
            const int64_t kv_off = (s * T_len + j) * kv_stride + kvh * hd;
            const T p = std::exp(scale * dot(qt, k + kv_off, hd) - row_lse);
            const T ds = p * (dot(dot_t, v + kv_off, hd) - D);
            for (int i = 0; i < hd; ++i) {
              dqt[i] += scale * ds * k[kv_off + i];
              dk[kv_off + i] += scale * ds * qt[i];
              dv[kv_off + i] += p * dot_t[i];
            }
          }
        }
      }
    }
  });
}

template void causal_attention_forward<float>(float*, float*, const float*, const float*, const float*,
                                              const AttentionShape&);
template void causal_attention_forward<double>(double*, double*, const double*, const double*, const double*,
                                               const AttentionShape&);
template void causal_attention_backward<float>(float*, float*, float*, const float*, const float*, const float*,
                                               const float*, const float*, const float*, const AttentionShape&);
template void causal_attention_backward<double>(double*, double*, double*, const double*, const double*,
                                                const double*, const double*, const double*, const double*,
                                                const AttentionShape&);

}  // namespace pagedllm
