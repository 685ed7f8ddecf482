// Causal multi-head self-attention with grouped-query heads over a batch of contiguous sequences, forward and
// backward (gradient convention: kernels/gradients.h). Training sequences are right-padded to seq_len; because the
// mask is causal, padding never influences a real token, and the loss masks the padding itself.
//
// Shapes: q, dq, out, dout: (n_seqs·seq_len, n_heads, head_dim); k, v, dk, dv: (n_seqs·seq_len, n_kv_heads,
// head_dim); query head h reads kv head h / (n_heads / n_kv_heads). scale = 1/sqrt(head_dim).
#pragma once

#include <cstdint>

namespace pagedllm {

struct AttentionShape {
  int64_t n_seqs;
  int64_t seq_len;
  int n_heads;
  int n_kv_heads;
  int head_dim;
};

// out[t, h] = Σ_{j ≤ t} p_j · v[j, h/g] with p = softmax_j(scale · q[t, h] · k[j, h/g]).
// Saves lse (n_seqs·seq_len, n_heads): the log-sum-exp of each softmax row, from which backward recomputes the
// probabilities (memory O(T), not O(T²)).
template <typename T>
void causal_attention_forward(T* out, T* lse, const T* q, const T* k, const T* v, const AttentionShape& shape);

// dq, dk, dv (assigned) from dout, with q, k, v, out and lse as in / saved by the forward.
template <typename T>
void causal_attention_backward(T* dq, T* dk, T* dv, const T* dout, const T* q, const T* k, const T* v, const T* out,
                               const T* lse, const AttentionShape& shape);

}  // namespace pagedllm
