// The SwiGLU gate of the Llama MLP, forward and backward: out = silu(gate) ⊙ up, silu(z) = z·σ(z).
#pragma once

#include <cstdint>

namespace pagedllm {

// Serving's forward (fast paths chosen at run time; training's float forward runs it too).
// out[i] = silu(gate[i]) * up[i] for i < n; silu(z) = z / (1 + exp(-z)). out may alias gate or up.
void silu_mul(float* out, const float* gate, const float* up, int64_t n);


// gate, up, out: (n). out must not alias gate or up (backward needs both).
template <typename T>
void silu_mul_forward(T* out, const T* gate, const T* up, int64_t n);

// dgate, dup (n) = ∂L/∂gate, ∂L/∂up from dout; gate and up are the forward's inputs.
template <typename T>
void silu_mul_backward(T* dgate, T* dup, const T* dout, const T* gate, const T* up, int64_t n);

}  // namespace pagedllm
