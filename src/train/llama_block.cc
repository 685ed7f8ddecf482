#include "train/llama_block.h"

#include "kernels/causal_attention.h"
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
    acts.keep[m] = make_dropout_mask(batch.dropout_seed + m, layer.dims.dropout, n_rows * layer.base.n_in);
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

template <typename T>
void add(std::vector<T>& y, const std::vector<T>& x) {
  for (size_t i = 0; i < y.size(); ++i) y[i] += x[i];
}

AttentionShape attention_shape(const BlockConfig& c, const BlockBatch& b) {
  return {b.n_seqs, b.seq_len, c.n_heads, c.n_kv_heads, c.head_dim};
}

}  // namespace

template <typename T>
void block_forward(T* out, BlockActivations<T>& a, const T* x, const BlockWeights<T>& w, const BlockConfig& c,
                   const BlockBatch& b) {
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
  causal_attention_forward<T>(a.att.data(), a.lse.data(), a.q.data(), a.k.data(), a.v.data(), attention_shape(c, b));
  linear_forward(a.h.data(), a, w, kOProj, a.att.data(), b, n);
  for (int64_t i = 0; i < n * c.dim; ++i) a.h[i] += x[i];
  rmsnorm_forward<T>(a.xn2.data(), a.rstd2.data(), a.h.data(), w.mlp_norm, n, c.dim, static_cast<T>(c.eps));
  linear_forward(a.gate.data(), a, w, kGateProj, a.xn2.data(), b, n);
  linear_forward(a.up.data(), a, w, kUpProj, a.xn2.data(), b, n);
  silu_mul_forward<T>(a.act.data(), a.gate.data(), a.up.data(), n * c.hidden_dim);
  linear_forward(out, a, w, kDownProj, a.act.data(), b, n);
  if (out == nullptr) return;
  for (int64_t i = 0; i < n * c.dim; ++i) out[i] += a.h[i];
}

template <typename T>
void block_backward(T* dx, const T* dout, const T* x, const BlockActivations<T>& a, const BlockWeights<T>& w,
                    const BlockConfig& c, const BlockBatch& b) {
  const int64_t n = b.n_seqs * b.seq_len;
  const int64_t q_dim = static_cast<int64_t>(c.n_heads) * c.head_dim;
  const int64_t kv_dim = static_cast<int64_t>(c.n_kv_heads) * c.head_dim;
  // MLP half: out = h + down(silu(gate(xn2)) ⊙ up(xn2)).
  std::vector<T> d_act(n * c.hidden_dim), d_gate(n * c.hidden_dim), d_up(n * c.hidden_dim);
  linear_backward(d_act.data(), a, w, kDownProj, dout, a.act.data(), n);
  silu_mul_backward<T>(d_gate.data(), d_up.data(), d_act.data(), a.gate.data(), a.up.data(), n * c.hidden_dim);
  std::vector<T> d_xn(n * c.dim), d_tmp(n * c.dim);
  linear_backward(d_xn.data(), a, w, kGateProj, d_gate.data(), a.xn2.data(), n);
  linear_backward(d_tmp.data(), a, w, kUpProj, d_up.data(), a.xn2.data(), n);
  add(d_xn, d_tmp);
  std::vector<T> d_h(n * c.dim);
  rmsnorm_backward<T>(d_h.data(), nullptr, d_xn.data(), a.h.data(), w.mlp_norm, a.rstd2.data(), n, c.dim);
  for (int64_t i = 0; i < n * c.dim; ++i) d_h[i] += dout[i];
  // Attention half: h = x + o(attention(rope(q(xn1)), rope(k(xn1)), v(xn1))).
  std::vector<T> d_att(n * q_dim), d_q(n * q_dim), d_k(n * kv_dim), d_v(n * kv_dim);
  linear_backward(d_att.data(), a, w, kOProj, d_h.data(), a.att.data(), n);
  causal_attention_backward<T>(d_q.data(), d_k.data(), d_v.data(), d_att.data(), a.q.data(), a.k.data(), a.v.data(),
                               a.att.data(), a.lse.data(), attention_shape(c, b));
  rope_backward<T>(d_q.data(), b.positions, n, c.n_heads, c.head_dim, c.rotary_dim, c.inv_freq);
  rope_backward<T>(d_k.data(), b.positions, n, c.n_kv_heads, c.head_dim, c.rotary_dim, c.inv_freq);
  linear_backward(d_xn.data(), a, w, kQProj, d_q.data(), a.xn1.data(), n);
  linear_backward(d_tmp.data(), a, w, kKProj, d_k.data(), a.xn1.data(), n);
  add(d_xn, d_tmp);
  linear_backward(d_tmp.data(), a, w, kVProj, d_v.data(), a.xn1.data(), n);
  add(d_xn, d_tmp);
  rmsnorm_backward<T>(dx, nullptr, d_xn.data(), x, w.attn_norm, a.rstd1.data(), n, c.dim);
  for (int64_t i = 0; i < n * c.dim; ++i) dx[i] += d_h[i];
}

template void block_forward<float>(float*, BlockActivations<float>&, const float*, const BlockWeights<float>&,
                                   const BlockConfig&, const BlockBatch&);
template void block_forward<double>(double*, BlockActivations<double>&, const double*, const BlockWeights<double>&,
                                    const BlockConfig&, const BlockBatch&);
template void block_backward<float>(float*, const float*, const float*, const BlockActivations<float>&,
                                    const BlockWeights<float>&, const BlockConfig&, const BlockBatch&);
template void block_backward<double>(double*, const double*, const double*, const BlockActivations<double>&,
                                     const BlockWeights<double>&, const BlockConfig&, const BlockBatch&);

}  // namespace pagedllm
