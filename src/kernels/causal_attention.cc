#include "kernels/causal_attention.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "kernels/elementwise.h"
#include "kernels/gemm.h"
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

// One softmax row: log Σ e^x, and x ← e^(x − shift). Float rows go through the vectorized kernels
// (kernels/elementwise.h; scalar expf was 3-4% of a SmolLM2 fine-tuning step), double rows (gradient checks) stay
// plain loops.
float row_log_sum_exp(const float* x, int64_t n) { return log_sum_exp(x, n); }
double row_log_sum_exp(const double* x, int64_t n) {
  const double max = *std::max_element(x, x + n);
  double sum = 0;
  for (int64_t j = 0; j < n; ++j) sum += std::exp(x[j] - max);
  return max + std::log(sum);
}
void row_exp_shifted(float* x, int64_t n, float shift) { exp_shifted_scaled(x, x, n, shift, 1.0f); }
void row_exp_shifted(double* x, int64_t n, double shift) {
  for (int64_t j = 0; j < n; ++j) x[j] = std::exp(x[j] - shift);
}

void check_shape(const AttentionShape& s) {
  PAGEDLLM_CHECK(s.n_heads > 0 && s.n_kv_heads > 0 && s.head_dim > 0);
  PAGEDLLM_CHECK_MSG(s.n_heads % s.n_kv_heads == 0, "n_heads {} not a multiple of n_kv_heads {}", s.n_heads,
                     s.n_kv_heads);
}

}  // namespace

// Both passes work per (sequence, head) on contiguous copies of that head's rows and in blocks of kRowBlock query
// rows: block [r0, r1) only needs keys [0, r1), so the products are GEMMs over the causal part, about half of the full
// T × T. They run in training's compute dtype (gemm_in<T>, kernels/gemm.h): bf16 with fp32 accumulation under
// `finetune --bf16`, as PyTorch's bf16 autocast runs attention's matmuls.
constexpr int64_t kRowBlock = 128;

// Rows [0, T) of head `head` of x (row stride `stride`, head_dim hd) into a contiguous (T, hd) buffer, and back.
template <typename T>
void gather_head(const T* x, int64_t stride, int head, int hd, int64_t T_len, T* out) {
  for (int64_t t = 0; t < T_len; ++t) std::copy_n(x + t * stride + head * hd, hd, out + t * hd);
}
template <typename T>
void scatter_head(const T* in, int64_t stride, int head, int hd, int64_t T_len, T* x) {
  for (int64_t t = 0; t < T_len; ++t) std::copy_n(in + t * hd, hd, x + t * stride + head * hd);
}

template <typename T>
void causal_attention_forward(T* out, T* lse, const T* q, const T* k, const T* v, const AttentionShape& shape) {
  check_shape(shape);
  const int64_t T_len = shape.seq_len;
  const int hd = shape.head_dim;
  const int group = shape.n_heads / shape.n_kv_heads;
  const T scale = T(1) / std::sqrt(static_cast<T>(hd));
  const ComputeDType dtype = training_matmul_compute();
  const int64_t q_stride = static_cast<int64_t>(shape.n_heads) * hd;
  const int64_t kv_stride = static_cast<int64_t>(shape.n_kv_heads) * hd;
  // One task per (sequence, head): rows of out and lse have exactly one writer.
  parallel_for(shape.n_seqs * shape.n_heads, 1, [&](int64_t begin, int64_t end) {
    std::vector<T> qh(T_len * hd), kh(T_len * hd), vh(T_len * hd), oh(T_len * hd);
    std::vector<T> scores(std::min(kRowBlock, T_len) * T_len);
    for (int64_t task = begin; task < end; ++task) {
      const int64_t s = task / shape.n_heads;
      const int h = static_cast<int>(task % shape.n_heads);
      const int kvh = h / group;
      gather_head(q + s * T_len * q_stride, q_stride, h, hd, T_len, qh.data());
      gather_head(k + s * T_len * kv_stride, kv_stride, kvh, hd, T_len, kh.data());
      gather_head(v + s * T_len * kv_stride, kv_stride, kvh, hd, T_len, vh.data());
      for (int64_t r0 = 0; r0 < T_len; r0 += kRowBlock) {
        const int64_t r1 = std::min(T_len, r0 + kRowBlock), rows = r1 - r0;
        // scores (rows, r1) = scale · Q[r0:r1] · K[0:r1]ᵀ, then a masked softmax per row.
        gemm_in<T>(dtype, false, true, rows, r1, hd, scale, qh.data() + r0 * hd, kh.data(), T(0), scores.data());
        for (int64_t i = 0; i < rows; ++i) {
          const int64_t t = r0 + i;
          T* row = scores.data() + i * r1;
          const T row_lse = row_log_sum_exp(row, t + 1);
          row_exp_shifted(row, t + 1, row_lse);  // the probabilities, as the backward recomputes them
          std::fill(row + t + 1, row + r1, T(0));
          lse[(s * T_len + t) * shape.n_heads + h] = row_lse;
        }
        gemm_in<T>(dtype, false, false, rows, hd, r1, T(1), scores.data(), vh.data(), T(0), oh.data() + r0 * hd);
      }
      scatter_head(oh.data(), q_stride, h, hd, T_len, out + s * T_len * q_stride);
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
  const ComputeDType dtype = training_matmul_compute();
  const int64_t q_stride = static_cast<int64_t>(shape.n_heads) * hd;
  const int64_t kv_stride = static_cast<int64_t>(shape.n_kv_heads) * hd;
  parallel_for(shape.n_seqs * shape.n_kv_heads, 1, [&](int64_t begin, int64_t end) {
    const int64_t head_size = T_len * hd;
    std::vector<T> kh(head_size), vh(head_size), dkh(head_size), dvh(head_size);
    std::vector<T> qh(head_size), doh(head_size), dqh(head_size), row_dot(T_len);
    const int64_t block_size = std::min(kRowBlock, T_len) * T_len;
    std::vector<T> p(block_size), dp(block_size);
    for (int64_t task = begin; task < end; ++task) {
      const int64_t s = task / shape.n_kv_heads;
      const int kvh = static_cast<int>(task % shape.n_kv_heads);
      gather_head(k + s * T_len * kv_stride, kv_stride, kvh, hd, T_len, kh.data());
      gather_head(v + s * T_len * kv_stride, kv_stride, kvh, hd, T_len, vh.data());
      std::fill(dkh.begin(), dkh.end(), T(0));
      std::fill(dvh.begin(), dvh.end(), T(0));
      for (int h = kvh * group; h < (kvh + 1) * group; ++h) {
        gather_head(q + s * T_len * q_stride, q_stride, h, hd, T_len, qh.data());
        gather_head(dout + s * T_len * q_stride, q_stride, h, hd, T_len, doh.data());
        for (int64_t t = 0; t < T_len; ++t) {
          row_dot[t] = dot(doh.data() + t * hd, out + (s * T_len + t) * q_stride + h * hd, hd);
        }
        for (int64_t r0 = 0; r0 < T_len; r0 += kRowBlock) {
          const int64_t r1 = std::min(T_len, r0 + kRowBlock), rows = r1 - r0;
          const T* q_block = qh.data() + r0 * hd;
          const T* do_block = doh.data() + r0 * hd;
          // p (rows, r1): the forward's probabilities, recomputed from lse; dp = dO · Vᵀ; then ds in place of dp.
          gemm_in<T>(dtype, false, true, rows, r1, hd, scale, q_block, kh.data(), T(0), p.data());
          gemm_in<T>(dtype, false, true, rows, r1, hd, T(1), do_block, vh.data(), T(0), dp.data());
          for (int64_t i = 0; i < rows; ++i) {
            const int64_t t = r0 + i;
            const T row_lse = lse[(s * T_len + t) * shape.n_heads + h];
            T* p_row = p.data() + i * r1;
            T* ds_row = dp.data() + i * r1;
            row_exp_shifted(p_row, t + 1, row_lse);
            for (int64_t j = 0; j <= t; ++j) ds_row[j] = p_row[j] * (ds_row[j] - row_dot[t]);
            std::fill(p_row + t + 1, p_row + r1, T(0));
            std::fill(ds_row + t + 1, ds_row + r1, T(0));
          }
          gemm_in<T>(dtype, false, false, rows, hd, r1, scale, dp.data(), kh.data(), T(0), dqh.data() + r0 * hd);
          gemm_in<T>(dtype, true, false, r1, hd, rows, scale, dp.data(), q_block, T(1), dkh.data());
          gemm_in<T>(dtype, true, false, r1, hd, rows, T(1), p.data(), do_block, T(1), dvh.data());
        }
        scatter_head(dqh.data(), q_stride, h, hd, T_len, dq + s * T_len * q_stride);
      }
      scatter_head(dkh.data(), kv_stride, kvh, hd, T_len, dk + s * T_len * kv_stride);
      scatter_head(dvh.data(), kv_stride, kvh, hd, T_len, dv + s * T_len * kv_stride);
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
