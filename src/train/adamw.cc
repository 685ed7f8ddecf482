#include "train/adamw.h"

#include <algorithm>
#include <cmath>

#include "train/dynamic_map.h"
#include "util/error.h"

namespace pagedllm {

void adamw_update_32bit(float* param, const float* grad, float* m, float* v, int64_t n, float lr, int64_t step,
                        const AdamWOptions& o) {
  const double bias1 = 1.0 - std::pow(static_cast<double>(o.beta1), static_cast<double>(step));
  const double bias2 = 1.0 - std::pow(static_cast<double>(o.beta2), static_cast<double>(step));
  const float step_size = static_cast<float>(lr / bias1);
  const float bias2_sqrt = static_cast<float>(std::sqrt(bias2));
  const float decay = 1.0f - lr * o.weight_decay;
  // Options in locals and the four arrays restrict-qualified (they never overlap) so the loop vectorizes (see
  // CMakeLists.txt); each lane computes what the scalar statements below say, in this order.
  const float beta1 = o.beta1, beta2 = o.beta2, eps = o.eps;
  const float one_minus_beta1 = 1.0f - beta1, one_minus_beta2 = 1.0f - beta2;
  float* __restrict p = param;
  const float* __restrict gr = grad;
  float* __restrict mm = m;
  float* __restrict vv = v;
  for (int64_t i = 0; i < n; ++i) {
    const float g = gr[i];
    const float new_m = beta1 * mm[i] + one_minus_beta1 * g;
    const float new_v = beta2 * vv[i] + one_minus_beta2 * g * g;
    mm[i] = new_m;
    vv[i] = new_v;
    p[i] = p[i] * decay - step_size * new_m / (std::sqrt(new_v) / bias2_sqrt + eps);
  }
}

void adamw_update_8bit_block(float* param, const float* grad, uint8_t* m_codes, uint8_t* v_codes, float* absmax_m,
                             float* absmax_v, int64_t n, float lr, int64_t step, const AdamWOptions& o) {
  PAGEDLLM_CHECK(n > 0 && n <= 256);
  const DynamicMap& signed_map = dynamic_map(true);
  const DynamicMap& unsigned_map = dynamic_map(false);
  float m[256], v[256];
  bool is_finite[256];
  float new_absmax_m = 0.0f, new_absmax_v = 0.0f;
  for (int64_t i = 0; i < n; ++i) {
    const float g = grad[i];
    is_finite[i] = std::isfinite(g);
    if (is_finite[i]) {
      m[i] = signed_map[m_codes[i]] * *absmax_m * o.beta1 + (1.0f - o.beta1) * g;
      v[i] = unsigned_map[v_codes[i]] * *absmax_v * o.beta2 + (1.0f - o.beta2) * g * g;
    } else {
      m[i] = 0.0f;
      v[i] = 0.0f;
    }
    new_absmax_m = std::max(new_absmax_m, std::abs(m[i]));
    new_absmax_v = std::max(new_absmax_v, std::abs(v[i]));
  }
  const float correction1 = static_cast<float>(1.0 - std::pow(static_cast<double>(o.beta1), double(step)));
  const float correction2 = static_cast<float>(std::sqrt(1.0 - std::pow(static_cast<double>(o.beta2), double(step))));
  const float step_size = -lr * correction2 / correction1;
  for (int64_t i = 0; i < n; ++i) {
    if (!is_finite[i]) continue;
    param[i] += step_size * (m[i] / (std::sqrt(v[i]) + correction2 * o.eps));
    if (o.weight_decay > 0.0f) param[i] *= 1.0f - lr * o.weight_decay;
  }
  *absmax_m = new_absmax_m;
  *absmax_v = new_absmax_v;
  for (int64_t i = 0; i < n; ++i) {
    uint8_t c = quantize_to_map(signed_map, new_absmax_m > 0.0f ? m[i] / new_absmax_m : 0.0f);
    // A small moment must not flip sign by rounding to the nearest code (bnb does the same correction).
    if (std::signbit(signed_map[c]) != std::signbit(m[i])) c = m[i] > 0.0f ? c + 1 : c - 1;
    m_codes[i] = c;
    v_codes[i] = quantize_to_map(unsigned_map, new_absmax_v > 0.0f ? v[i] / new_absmax_v : 0.0f);
  }
}

}  // namespace pagedllm
