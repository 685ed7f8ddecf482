// RMSNorm, forward and backward (gradient convention: train/gradients.h).
#pragma once

#include <cstdint>

namespace pagedllm {

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
