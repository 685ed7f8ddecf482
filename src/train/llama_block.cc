#include "train/llama_block.h"

#include <memory>
#include <type_traits>

#include "kernels/causal_attention.h"
#include "kernels/elementwise.h"
#include "kernels/rmsnorm.h"
#include "kernels/rope.h"
#include "kernels/swiglu.h"

namespace pagedllm {

namespace {

template <typename T>
void linear_forward(T* y, BlockActivations<T>& acts, const BlockWeights<T>& w, int m, const T* x,
                    const BlockBatch& batch, int64_t n_rows) {
  const LoraLinear<T>& layer = w.linears[m];
  if (layer.A != nullptr) {
    acts.xa[m].resize(n_rows * layer.dims.rank);
    make_dropout_mask(acts.keep[m], batch.dropout_seed + m, layer.dims.dropout, n_rows * layer.base.n_in);
  }
  lora_linear_forward<T>(y, acts.xa[m].data(), layer, x, acts.keep[m].empty() ? nullptr : acts.keep[m].data(),
                         n_rows);
}

template <typename T>
void linear_backward(T* dx, const BlockActivations<T>& acts, const BlockWeights<T>& w, int m, const T* dy,
                     const T* x, int64_t n_rows) {
  lora_linear_backward<T>(dx, w.linears[m], dy, x, acts.keep[m].empty() ? nullptr : acts.keep[m].data(),
                          acts.xa[m].data(), n_rows);
}

// y[i] += x[i]: float through the pool's vector kernel (the same bits as the scalar sum).
template <typename T>
void add(T* y, const T* x, int64_t n) {
  if constexpr (std::is_same_v<T, float>) {
    add_inplace(y, x, n);
  } else {
    for (int64_t i = 0; i < n; ++i) y[i] += x[i];
  }
}

// A gradient buffer that its producer assigns in full: left uninitialized (zeroing the MLP's three (N, hidden_dim)
// buffers was a serial memset of several MB per block).
template <typename T>
std::unique_ptr<T[]> scratch(int64_t n) {
  return std::unique_ptr<T[]>(new T[static_cast<size_t>(n)]);
}

AttentionShape attention_shape(const BlockConfig& c, const BlockBatch& b) {
  return {b.n_seqs, b.seq_len, c.n_heads, c.n_kv_heads, c.head_dim};
}

}  // namespace

template <typename T>
void block_forward(T* out, BlockActivations<T>& a, const T* x, const BlockWeights<T>& w, const BlockConfig& c,
                   const BlockBatch& b, const BlockAttentionOutputs<T>* attention) {
  const int64_t n = b.n_seqs * b.seq_len;
  const int64_t q_dim = static_cast<int64_t>(c.n_heads) * c.head_dim;
  const int64_t kv_dim = static_cast<int64_t>(c.n_kv_heads) * c.head_dim;
  a.rstd1.resize(n), a.rstd2.resize(n), a.xn1.resize(n * c.dim), a.h.resize(n * c.dim), a.xn2.resize(n * c.dim);
  a.q.resize(n * q_dim), a.att.resize(n * q_dim), a.k.resize(n * kv_dim), a.v.resize(n * kv_dim);
  a.lse.resize(n * c.n_heads), a.gate.resize(n * c.hidden_dim), a.up.resize(n * c.hidden_dim);
  a.act.resize(n * c.hidden_dim);

  rmsnorm_forward<T>(a.xn1.data(), a.rstd1.data(), x, w.attn_norm, n, c.dim, static_cast<T>(c.eps));
  linear_forward(a.q.data(), a, w, kQProj, a.xn1.data(), b, n);
  linear_forward(a.k.data(), a, w, kKProj, a.xn1.data(), b, n);
  linear_forward(a.v.data(), a, w, kVProj, a.xn1.data(), b, n);
  rope_forward<T>(a.q.data(), b.positions, n, c.n_heads, c.head_dim, c.rotary_dim, c.inv_freq);
  rope_forward<T>(a.k.data(), b.positions, n, c.n_kv_heads, c.head_dim, c.rotary_dim, c.inv_freq);
  if (attention != nullptr) {
    a.att = attention->att;
    a.lse = attention->lse;
    a.h = attention->h;
    linear_forward<T>(nullptr, a, w, kOProj, a.att.data(), b, n);  // its adapter's xa and mask only
  } else {
    causal_attention_forward<T>(a.att.data(), a.lse.data(), a.q.data(), a.k.data(), a.v.data(),
                                attention_shape(c, b));
    linear_forward(a.h.data(), a, w, kOProj, a.att.data(), b, n);
    add(a.h.data(), x, n * c.dim);
  }
  rmsnorm_forward<T>(a.xn2.data(), a.rstd2.data(), a.h.data(), w.mlp_norm, n, c.dim, static_cast<T>(c.eps));
  linear_forward(a.gate.data(), a, w, kGateProj, a.xn2.data(), b, n);
  linear_forward(a.up.data(), a, w, kUpProj, a.xn2.data(), b, n);
  silu_mul_forward<T>(a.act.data(), a.gate.data(), a.up.data(), n * c.hidden_dim);
  linear_forward(out, a, w, kDownProj, a.act.data(), b, n);
  if (out == nullptr) return;
  add(out, a.h.data(), n * c.dim);
}

template <typename T>
void block_backward(T* dx, const T* dout, const T* x, const BlockActivations<T>& a, const BlockWeights<T>& w,
                    const BlockConfig& c, const BlockBatch& b) {
  const int64_t n = b.n_seqs * b.seq_len;
  const int64_t q_dim = static_cast<int64_t>(c.n_heads) * c.head_dim;
  const int64_t kv_dim = static_cast<int64_t>(c.n_kv_heads) * c.head_dim;
  // MLP half: out = h + down(silu(gate(xn2)) ⊙ up(xn2)). Every buffer below is assigned in full by its producer.
  const auto d_act = scratch<T>(n * c.hidden_dim), d_gate = scratch<T>(n * c.hidden_dim);
  const auto d_up = scratch<T>(n * c.hidden_dim);
  linear_backward(d_act.get(), a, w, kDownProj, dout, a.act.data(), n);
  silu_mul_backward<T>(d_gate.get(), d_up.get(), d_act.get(), a.gate.data(), a.up.data(), n * c.hidden_dim);
  const auto d_xn = scratch<T>(n * c.dim), d_tmp = scratch<T>(n * c.dim);
  linear_backward(d_xn.get(), a, w, kGateProj, d_gate.get(), a.xn2.data(), n);
  linear_backward(d_tmp.get(), a, w, kUpProj, d_up.get(), a.xn2.data(), n);
  add(d_xn.get(), d_tmp.get(), n * c.dim);
  const auto d_h = scratch<T>(n * c.dim);
  rmsnorm_backward<T>(d_h.get(), nullptr, d_xn.get(), a.h.data(), w.mlp_norm, a.rstd2.data(), n, c.dim);
  add(d_h.get(), dout, n * c.dim);
  // Attention half: h = x + o(attention(rope(q(xn1)), rope(k(xn1)), v(xn1))).
  const auto d_att = scratch<T>(n * q_dim), d_q = scratch<T>(n * q_dim);
  const auto d_k = scratch<T>(n * kv_dim), d_v = scratch<T>(n * kv_dim);
  linear_backward(d_att.get(), a, w, kOProj, d_h.get(), a.att.data(), n);
  causal_attention_backward<T>(d_q.get(), d_k.get(), d_v.get(), d_att.get(), a.q.data(), a.k.data(), a.v.data(),
                               a.att.data(), a.lse.data(), attention_shape(c, b));
  rope_backward<T>(d_q.get(), b.positions, n, c.n_heads, c.head_dim, c.rotary_dim, c.inv_freq);
  rope_backward<T>(d_k.get(), b.positions, n, c.n_kv_heads, c.head_dim, c.rotary_dim, c.inv_freq);
  linear_backward(d_xn.get(), a, w, kQProj, d_q.get(), a.xn1.data(), n);
  linear_backward(d_tmp.get(), a, w, kKProj, d_k.get(), a.xn1.data(), n);
  add(d_xn.get(), d_tmp.get(), n * c.dim);
  linear_backward(d_tmp.get(), a, w, kVProj, d_v.get(), a.xn1.data(), n);
  add(d_xn.get(), d_tmp.get(), n * c.dim);
  rmsnorm_backward<T>(dx, nullptr, d_xn.get(), x, w.attn_norm, a.rstd1.data(), n, c.dim);
  add(dx, d_h.get(), n * c.dim);
}

template void block_forward<float>(float*, BlockActivations<float>&, const float*, const BlockWeights<float>&,
                                   const BlockConfig&, const BlockBatch&, const BlockAttentionOutputs<float>*);
template void block_forward<double>(double*, BlockActivations<double>&, const double*, const BlockWeights<double>&,
                                    const BlockConfig&, const BlockBatch&, const BlockAttentionOutputs<double>*);
template void block_backward<float>(float*, const float*, const float*, const BlockActivations<float>&,
                                    const BlockWeights<float>&, const BlockConfig&, const BlockBatch&);
template void block_backward<double>(double*, const double*, const double*, const BlockActivations<double>&,
                                     const BlockWeights<double>&, const BlockConfig&, const BlockBatch&);

}  // namespace pagedllm
