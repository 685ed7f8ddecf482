// Per-row and per-element operations without a backward of their own (residual adds, log-softmax, the
// log-sum-exp pieces of softmax and cross-entropy). RMSNorm, RoPE and SwiGLU have their own files
// (rmsnorm.h, rope.h, swiglu.h) with their backwards. Shapes in comments; all fp32, row-major.
#pragma once

#include <cstdint>

namespace pagedllm {

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
