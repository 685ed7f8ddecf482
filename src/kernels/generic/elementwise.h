// Portable per-row and per-element kernels: the reference the AVX2 kernels are tested against.
// Contracts (shapes, aliasing) as in kernels/elementwise.h; these run on the calling thread.
#pragma once

#include <cstdint>

namespace pagedllm::generic {

void rmsnorm(float* out, const float* x, const float* weight, int64_t n_rows, int64_t dim, float eps);
// rstd[r] = the scale rmsnorm multiplies row r by, computed exactly as this file's rmsnorm computes it (training's
// forward saves it for the backward).
void rms_scales(float* rstd, const float* x, int64_t n_rows, int64_t dim, float eps);
// RMSNorm's input gradient (kernels/rmsnorm.h rmsnorm_backward, without dweight) for n_rows rows.
void rmsnorm_backward_rows(float* dx, const float* dout, const float* x, const float* weight, const float* rstd,
                           int64_t n_rows, int64_t dim);
void rope(float* x, const int64_t* positions, int64_t n_tokens, int n_heads, int head_dim, int rotary_dim,
          const float* inv_freq);
void silu_mul(float* out, const float* gate, const float* up, int64_t n);
void silu_mul_backward(float* dgate, float* dup, const float* dout, const float* gate, const float* up, int64_t n);
void add_inplace(float* y, const float* x, int64_t n);
void dropout_scale(float* out, const float* x, const uint8_t* keep, int64_t n, float scale);
void add_dropout_scaled(float* y, const float* x, const uint8_t* keep, int64_t n, float scale);
void log_softmax(float* out, const float* x, int64_t n_rows, int64_t dim);
float log_sum_exp(const float* x, int64_t n);
void exp_shifted_scaled(float* out, const float* x, int64_t n, float shift, float scale);

}  // namespace pagedllm::generic
