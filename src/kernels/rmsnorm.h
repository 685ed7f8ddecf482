// RMSNorm, forward and backward (gradient convention: kernels/gradients.h).
#pragma once

#include <cstdint>

namespace pagedllm {

// Serving's forward (fast paths chosen at run time; training's float forward runs it too).
// out[r, :] = x[r, :] / sqrt(mean(x[r, :]²) + eps) * weight[:]   for r < n_rows; x, out: (n_rows, dim).
// out may alias x.
void rmsnorm(float* out, const float* x, const float* weight, int64_t n_rows, int64_t dim, float eps);


// out[r, :] = x[r, :] · rstd[r] · weight[:],  rstd[r] = 1 / sqrt(mean(x[r, :]²) + eps).
// x, out: (n_rows, dim); weight: (dim); rstd: (n_rows), saved for backward. out must not alias x.
template <typename T>
void rmsnorm_forward(T* out, T* rstd, const T* x, const T* weight, int64_t n_rows, int64_t dim, T eps);

// dx (n_rows, dim) = ∂L/∂x given dout = ∂L/∂out; dweight (dim) += ∂L/∂weight when not null (frozen norms pass
// null). x, weight, rstd as given to / saved by rmsnorm_forward.
template <typename T>
void rmsnorm_backward(T* dx, T* dweight, const T* dout, const T* x, const T* weight, const T* rstd, int64_t n_rows,
                      int64_t dim);

}  // namespace pagedllm
