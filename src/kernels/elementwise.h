// Per-row and per-element operations without a backward of their own (residual adds, log-softmax, the
// log-sum-exp pieces of softmax and cross-entropy). RMSNorm, RoPE and SwiGLU have their own files
// (rmsnorm.h, rope.h, swiglu.h) with their backwards. Shapes in comments; all fp32, row-major.
#pragma once

#include <cstdint>

namespace pagedllm {

// y[i] += x[i] for i < n (residual connections).
void add_inplace(float* y, const float* x, int64_t n);

// Dropout with a drawn mask (train/lora.h): out[i] = keep[i] ? scale · x[i] : 0, and its gradient
// y[i] = keep[i] ? fma(scale, x[i], y[i]) : y[i] (one rounding, the same bits on every path), for i < n (keep: 0 or
// 1 bytes). out may alias x.
void dropout_scale(float* out, const float* x, const uint8_t* keep, int64_t n, float scale);
void add_dropout_scaled(float* y, const float* x, const uint8_t* keep, int64_t n, float scale);

// out[r, :] = log_softmax(x[r, :]) for r < n_rows. out may alias x.
void log_softmax(float* out, const float* x, int64_t n_rows, int64_t dim);

// One row on the calling thread (for callers that already split rows over threads, like the training loss):
// log Σ e^x[i], computed as max + log Σ e^(x[i] - max) (n ≥ 1; -inf entries contribute 0) ...
float log_sum_exp(const float* x, int64_t n);
// ... and out[i] = scale · e^(x[i] - shift) (softmax probabilities and their gradient). out may alias x.
void exp_shifted_scaled(float* out, const float* x, int64_t n, float shift, float scale);

}  // namespace pagedllm
