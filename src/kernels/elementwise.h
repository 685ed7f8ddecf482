// Per-row and per-element operations of the transformer block. Shapes in comments; all fp32, row-major.
#pragma once

#include <cstdint>

namespace pagedllm {

// out[r, :] = x[r, :] / sqrt(mean(x[r, :]²) + eps) * weight[:]   for r < n_rows; x, out: (n_rows, dim).
// out may alias x.
void rmsnorm(float* out, const float* x, const float* weight, int64_t n_rows, int64_t dim, float eps);

// Rotary embedding in the rotate_half ("NeoX", Hugging Face Llama) layout, in place:
// x: (n_tokens, n_heads, head_dim); for pair i < rotary_dim/2 of each head, angle = positions[t] * inv_freq[i],
// (x[i], x[i + rotary_dim/2]) ← (x[i]·cos − x[i+half]·sin, x[i+half]·cos + x[i]·sin). Dims ≥ rotary_dim untouched.
void rope(float* x, const int64_t* positions, int64_t n_tokens, int n_heads, int head_dim, int rotary_dim,
          const float* inv_freq);

// out[i] = silu(gate[i]) * up[i] for i < n; silu(z) = z / (1 + exp(-z)). out may alias gate or up.
void silu_mul(float* out, const float* gate, const float* up, int64_t n);

// y[i] += x[i] for i < n (residual connections).
void add_inplace(float* y, const float* x, int64_t n);

// out[r, :] = log_softmax(x[r, :]) for r < n_rows. out may alias x.
void log_softmax(float* out, const float* x, int64_t n_rows, int64_t dim);

// One row on the calling thread (for callers that already split rows over threads, like the training loss):
// log Σ e^x[i], computed as max + log Σ e^(x[i] - max) (n ≥ 1; -inf entries contribute 0) ...
float log_sum_exp(const float* x, int64_t n);
// ... and out[i] = scale · e^(x[i] - shift) (softmax probabilities and their gradient). out may alias x.
void exp_shifted_scaled(float* out, const float* x, int64_t n, float shift, float scale);

}  // namespace pagedllm
