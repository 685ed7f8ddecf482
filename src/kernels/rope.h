// Rotary position embedding, forward and backward, in the rotate_half ("NeoX", Hugging Face Llama) layout of
// rope() below: for pair i < rotary_dim/2 of each head, angle = positions[t] · inv_freq[i] and
// (x[i], x[i + rotary_dim/2]) is rotated by that angle. Dims ≥ rotary_dim pass through.
#pragma once

#include <cstdint>

namespace pagedllm {

// Serving's forward (fast paths chosen at run time; training's float forward runs it too).
// Rotary embedding in the rotate_half ("NeoX", Hugging Face Llama) layout, in place:
// x: (n_tokens, n_heads, head_dim); for pair i < rotary_dim/2 of each head, angle = positions[t] * inv_freq[i],
// (x[i], x[i + rotary_dim/2]) ← (x[i]·cos − x[i+half]·sin, x[i+half]·cos + x[i]·sin). Dims ≥ rotary_dim untouched.
void rope(float* x, const int64_t* positions, int64_t n_tokens, int n_heads, int head_dim, int rotary_dim,
          const float* inv_freq);


// In place. x: (n_tokens, n_heads, head_dim); positions: (n_tokens); inv_freq: (rotary_dim / 2).
template <typename T>
void rope_forward(T* x, const int64_t* positions, int64_t n_tokens, int n_heads, int head_dim, int rotary_dim,
                  const float* inv_freq);

// In place: dx = ∂L/∂x from dout = ∂L/∂out, same shapes. A rotation's gradient is the inverse rotation, so nothing
// is saved by the forward.
template <typename T>
void rope_backward(T* dx, const int64_t* positions, int64_t n_tokens, int n_heads, int head_dim, int rotary_dim,
                   const float* inv_freq);

}  // namespace pagedllm
