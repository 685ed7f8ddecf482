#include "kernels/generic/elementwise.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace pagedllm::generic {

void rmsnorm(float* out, const float* x, const float* weight, int64_t n_rows, int64_t dim, float eps) {
  for (int64_t r = 0; r < n_rows; ++r) {
    const float* xr = x + r * dim;
    float* yr = out + r * dim;
    float sum_sq = 0.0f;
    for (int64_t i = 0; i < dim; ++i) sum_sq += xr[i] * xr[i];
    float rstd = 1.0f / std::sqrt(sum_sq / static_cast<float>(dim) + eps);
    for (int64_t i = 0; i < dim; ++i) yr[i] = xr[i] * rstd * weight[i];
  }
}

void rms_scales(float* rstd, const float* x, int64_t n_rows, int64_t dim, float eps) {
  for (int64_t r = 0; r < n_rows; ++r) {
    const float* xr = x + r * dim;
    float sum_sq = 0.0f;
    for (int64_t i = 0; i < dim; ++i) sum_sq += xr[i] * xr[i];
    rstd[r] = 1.0f / std::sqrt(sum_sq / static_cast<float>(dim) + eps);
  }
}

// dx_j = s·w_j·dy_j − (s³/dim)·x_j·Σ_i dy_i·w_i·x_i.
void rmsnorm_backward_rows(float* dx, const float* dout, const float* x, const float* weight, const float* rstd,
                           int64_t n_rows, int64_t dim) {
  for (int64_t r = 0; r < n_rows; ++r) {
    const float* xr = x + r * dim;
    const float* dyr = dout + r * dim;
    const float s = rstd[r];
    float dot = 0;
    for (int64_t i = 0; i < dim; ++i) dot += dyr[i] * weight[i] * xr[i];
    const float coef = s * s * s * dot / static_cast<float>(dim);
    float* dxr = dx + r * dim;
    for (int64_t i = 0; i < dim; ++i) dxr[i] = s * weight[i] * dyr[i] - coef * xr[i];
  }
}

void rope(float* x, const int64_t* positions, int64_t n_tokens, int n_heads, int head_dim, int rotary_dim,
          const float* inv_freq) {
  int half = rotary_dim / 2;
  std::vector<float> cos_table(half), sin_table(half);
  for (int64_t t = 0; t < n_tokens; ++t) {
    for (int i = 0; i < half; ++i) {
      float angle = static_cast<float>(positions[t]) * inv_freq[i];
      cos_table[i] = std::cos(angle);
      sin_table[i] = std::sin(angle);
    }
    for (int h = 0; h < n_heads; ++h) {
      float* head = x + (t * n_heads + h) * head_dim;
      for (int i = 0; i < half; ++i) {
        float x0 = head[i];
        float x1 = head[i + half];
        head[i] = x0 * cos_table[i] - x1 * sin_table[i];
        head[i + half] = x1 * cos_table[i] + x0 * sin_table[i];
      }
    }
  }
}

void silu_mul(float* out, const float* gate, const float* up, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    float g = gate[i];
    out[i] = g / (1.0f + std::exp(-g)) * up[i];
  }
}

// silu'(z) = σ(z)·(1 + z·(1 − σ(z))).
void silu_mul_backward(float* dgate, float* dup, const float* dout, const float* gate, const float* up, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const float z = gate[i];
    const float sig = 1.0f / (1.0f + std::exp(-z));
    dup[i] = dout[i] * z * sig;
    dgate[i] = dout[i] * up[i] * sig * (1.0f + z * (1.0f - sig));
  }
}

void add_inplace(float* y, const float* x, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] += x[i];
}

void dropout_scale(float* out, const float* x, const uint8_t* keep, int64_t n, float scale) {
  for (int64_t i = 0; i < n; ++i) out[i] = keep[i] ? scale * x[i] : 0.0f;
}

void add_dropout_scaled(float* y, const float* x, const uint8_t* keep, int64_t n, float scale) {
  for (int64_t i = 0; i < n; ++i) {
    if (keep[i]) y[i] = std::fma(scale, x[i], y[i]);
  }
}

void log_softmax(float* out, const float* x, int64_t n_rows, int64_t dim) {
  for (int64_t r = 0; r < n_rows; ++r) {
    const float* xr = x + r * dim;
    float* yr = out + r * dim;
    float max = *std::max_element(xr, xr + dim);
    double sum = 0.0;  // double: this is the reference the vectorized float sum is checked against
    for (int64_t i = 0; i < dim; ++i) sum += std::exp(static_cast<double>(xr[i] - max));
    float log_sum = static_cast<float>(std::log(sum));
    for (int64_t i = 0; i < dim; ++i) yr[i] = xr[i] - max - log_sum;
  }
}

float log_sum_exp(const float* x, int64_t n) {
  const float max = *std::max_element(x, x + n);
  double sum = 0.0;  // double, as in log_softmax: the reference for the float vector sum
  for (int64_t i = 0; i < n; ++i) sum += std::exp(static_cast<double>(x[i] - max));
  return max + static_cast<float>(std::log(sum));
}

void exp_shifted_scaled(float* out, const float* x, int64_t n, float shift, float scale) {
  for (int64_t i = 0; i < n; ++i) out[i] = scale * std::exp(x[i] - shift);
}

}  // namespace pagedllm::generic
