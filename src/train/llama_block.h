// One Llama decoder block for training, forward and backward, assembled from this folder's op pairs in llm.c's
// style (gradient convention: kernels/gradients.h). Frozen: the two RMSNorm weights and the seven projections; trained:
// the LoRA adapters on any of the projections.
//
//   forward                                   backward (reverse order)
//   xn1  = rmsnorm(x; attn_norm)   [rstd1]    dx   = dh + rmsnorm_backward(dxn1)
//   q,k,v = q/k/v_proj(xn1)        [xa, keep] dxn1 = q/k/v_proj backward (dq, dk, dv), summed
//   q,k  = rope(q), rope(k)                   dq,dk = rope_backward
//   att  = causal_attention(q,k,v) [lse]      dq,dk,dv = causal_attention_backward(datt)
//   h    = x + o_proj(att)                    datt = o_proj backward(dh)
//   xn2  = rmsnorm(h; mlp_norm)    [rstd2]    dh   = dout + rmsnorm_backward(dxn2)
//   g,u  = gate/up_proj(xn2)                  dxn2 = gate/up_proj backward(dg, du), summed
//   a    = silu(g) ⊙ u                        dg,du = silu_mul_backward(da)
//   out  = h + down_proj(a)                   da   = down_proj backward(dout)
//
// Gradient checkpointing keeps only each block's input x and its attention outputs (BlockAttentionOutputs) during the
// model's forward and calls block_forward again right before block_backward; dropout masks are drawn from a seed, so
// the recomputation is exact.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "formats/checkpoint_layout.h"
#include "train/lora_linear.h"

namespace pagedllm {

struct BlockConfig {
  int64_t dim = 0;         // hidden size
  int64_t hidden_dim = 0;  // MLP intermediate size
  int n_heads = 0;
  int n_kv_heads = 0;
  int head_dim = 0;
  int rotary_dim = 0;
  double eps = 1e-5;
  const float* inv_freq = nullptr;  // (rotary_dim / 2)
};

template <typename T>
struct BlockWeights {
  const T* attn_norm = nullptr;  // (dim)
  const T* mlp_norm = nullptr;   // (dim)
  std::array<LoraLinear<T>, kNumLinearModules> linears;  // indexed by LinearModule
};

// What one forward pass runs on: n_seqs right-padded sequences of seq_len tokens.
struct BlockBatch {
  int64_t n_seqs = 0;
  int64_t seq_len = 0;
  const int64_t* positions = nullptr;  // (n_seqs·seq_len)
  uint64_t dropout_seed = 0;           // module m draws its mask from seed + m (see lora.h dropout_seed)
};

// Everything block_backward needs besides the block input x. N = n_seqs·seq_len.
template <typename T>
struct BlockActivations {
  std::vector<T> rstd1, rstd2;      // (N)
  std::vector<T> xn1, h, xn2;       // (N, dim)
  std::vector<T> q, att;            // (N, n_heads·head_dim), q after rope
  std::vector<T> k, v;              // (N, n_kv_heads·head_dim), k after rope
  std::vector<T> lse;               // (N, n_heads)
  std::vector<T> gate, up, act;     // (N, hidden_dim)
  std::array<std::vector<T>, kNumLinearModules> xa;         // (N, rank) per adapted linear
  std::array<std::vector<uint8_t>, kNumLinearModules> keep;  // dropout masks (N, n_in), empty without dropout
};

// What gradient checkpointing keeps of a block's attention half besides the block input: its outputs, so that the
// recompute skips the attention and the o projection's frozen product (+ 2.4 MB a layer for SmolLM2 at N = 512).
template <typename T>
struct BlockAttentionOutputs {
  std::vector<T> att;  // (N, n_heads·head_dim)
  std::vector<T> lse;  // (N, n_heads)
  std::vector<T> h;    // (N, dim): x + o_proj(att)
};

// out (N, dim) = block(x); fills acts. out must not alias x. out may be null: then only acts are filled, and the
// down projection's product and the last residual add, which nothing in block_backward reads, are skipped (gradient
// checkpointing's recompute already holds the block's output: 1/4 of a block's frozen multiply-adds).
// attention: null, or the attention half's outputs of this same forward (same x, weights and batch), which are then
// copied into acts instead of computed; the o projection's adapter product (xa, mask) still runs. Same activations
// bit for bit.
template <typename T>
void block_forward(T* out, BlockActivations<T>& acts, const T* x, const BlockWeights<T>& weights,
                   const BlockConfig& config, const BlockBatch& batch,
                   const BlockAttentionOutputs<T>* attention = nullptr);

// dx (N, dim) = ∂L/∂x from dout = ∂L/∂out (assigned; dx must not alias dout); the adapters' dA, dB += their
// gradients. x and acts as given to / filled by block_forward.
template <typename T>
void block_backward(T* dx, const T* dout, const T* x, const BlockActivations<T>& acts, const BlockWeights<T>& weights,
                    const BlockConfig& config, const BlockBatch& batch);

}  // namespace pagedllm
