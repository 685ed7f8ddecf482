#include "kernels/x86_avx2/elementwise.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "kernels/simd/avx2.h"

namespace pagedllm::avx2 {
namespace {

float sum_squares(const float* x, int64_t n) {
  __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    __m256 a = _mm256_loadu_ps(x + i), b = _mm256_loadu_ps(x + i + 8);
    s0 = _mm256_fmadd_ps(a, a, s0);
    s1 = _mm256_fmadd_ps(b, b, s1);
  }
  float sum = hsum(_mm256_add_ps(s0, s1));
  for (; i < n; ++i) sum += x[i] * x[i];
  return sum;
}

float max_of(const float* x, int64_t n) {
  __m256 m = _mm256_set1_ps(-std::numeric_limits<float>::infinity());
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) m = _mm256_max_ps(m, _mm256_loadu_ps(x + i));
  float result = hmax(m);
  for (; i < n; ++i) result = std::max(result, x[i]);
  return result;
}

// Σ e^(x[i] - shift), with four vector partial sums.
float sum_exp(const float* x, int64_t n, float shift) {
  __m256 s = _mm256_set1_ps(shift);
  __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps(), a2 = _mm256_setzero_ps(), a3 = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 32 <= n; i += 32) {
    a0 = _mm256_add_ps(a0, exp256(_mm256_sub_ps(_mm256_loadu_ps(x + i), s)));
    a1 = _mm256_add_ps(a1, exp256(_mm256_sub_ps(_mm256_loadu_ps(x + i + 8), s)));
    a2 = _mm256_add_ps(a2, exp256(_mm256_sub_ps(_mm256_loadu_ps(x + i + 16), s)));
    a3 = _mm256_add_ps(a3, exp256(_mm256_sub_ps(_mm256_loadu_ps(x + i + 24), s)));
  }
  for (; i + 8 <= n; i += 8) a0 = _mm256_add_ps(a0, exp256(_mm256_sub_ps(_mm256_loadu_ps(x + i), s)));
  float sum = hsum(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)));
  for (; i < n; ++i) sum += std::exp(x[i] - shift);
  return sum;
}

}  // namespace

void rmsnorm(float* out, const float* x, const float* weight, int64_t n_rows, int64_t dim, float eps) {
  for (int64_t r = 0; r < n_rows; ++r) {
    const float* xr = x + r * dim;
    float* yr = out + r * dim;
    float rstd = 1.0f / std::sqrt(sum_squares(xr, dim) / static_cast<float>(dim) + eps);
    __m256 vr = _mm256_set1_ps(rstd);
    int64_t i = 0;
    for (; i + 8 <= dim; i += 8) {
      __m256 y = _mm256_mul_ps(_mm256_mul_ps(_mm256_loadu_ps(xr + i), vr), _mm256_loadu_ps(weight + i));
      _mm256_storeu_ps(yr + i, y);
    }
    for (; i < dim; ++i) yr[i] = xr[i] * rstd * weight[i];
  }
}

void rms_scales(float* rstd, const float* x, int64_t n_rows, int64_t dim, float eps) {
  for (int64_t r = 0; r < n_rows; ++r) {
    rstd[r] = 1.0f / std::sqrt(sum_squares(x + r * dim, dim) / static_cast<float>(dim) + eps);
  }
}

void rmsnorm_backward_rows(float* dx, const float* dout, const float* x, const float* weight, const float* rstd,
                           int64_t n_rows, int64_t dim) {
  for (int64_t r = 0; r < n_rows; ++r) {
    const float* xr = x + r * dim;
    const float* dyr = dout + r * dim;
    float* dxr = dx + r * dim;
    const float s = rstd[r];
    // Σ dy·w·x in two vector partial sums (the scalar chain waited on every add).
    __m256 d0 = _mm256_setzero_ps(), d1 = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 16 <= dim; i += 16) {
      d0 = _mm256_fmadd_ps(_mm256_mul_ps(_mm256_loadu_ps(dyr + i), _mm256_loadu_ps(weight + i)),
                           _mm256_loadu_ps(xr + i), d0);
      d1 = _mm256_fmadd_ps(_mm256_mul_ps(_mm256_loadu_ps(dyr + i + 8), _mm256_loadu_ps(weight + i + 8)),
                           _mm256_loadu_ps(xr + i + 8), d1);
    }
    float dot = hsum(_mm256_add_ps(d0, d1));
    for (; i < dim; ++i) dot += dyr[i] * weight[i] * xr[i];
    const float coef = s * s * s * dot / static_cast<float>(dim);
    const __m256 vs = _mm256_set1_ps(s), vc = _mm256_set1_ps(coef);
    i = 0;
    for (; i + 8 <= dim; i += 8) {
      const __m256 scaled = _mm256_mul_ps(_mm256_mul_ps(vs, _mm256_loadu_ps(weight + i)), _mm256_loadu_ps(dyr + i));
      _mm256_storeu_ps(dxr + i, _mm256_fnmadd_ps(vc, _mm256_loadu_ps(xr + i), scaled));
    }
    for (; i < dim; ++i) dxr[i] = s * weight[i] * dyr[i] - coef * xr[i];
  }
}

void rope(float* x, const int64_t* positions, int64_t n_tokens, int n_heads, int head_dim, int rotary_dim,
          const float* inv_freq) {
  int half = rotary_dim / 2;
  thread_local std::vector<float> cos_table, sin_table;
  cos_table.resize(half);
  sin_table.resize(half);
  for (int64_t t = 0; t < n_tokens; ++t) {
    // The same angles and libm cos/sin as the portable kernel: the tables are shared by all heads of the token.
    for (int i = 0; i < half; ++i) {
      float angle = static_cast<float>(positions[t]) * inv_freq[i];
      cos_table[i] = std::cos(angle);
      sin_table[i] = std::sin(angle);
    }
    for (int h = 0; h < n_heads; ++h) {
      float* head = x + (t * n_heads + h) * head_dim;
      int i = 0;
      for (; i + 8 <= half; i += 8) {
        __m256 c = _mm256_loadu_ps(cos_table.data() + i), s = _mm256_loadu_ps(sin_table.data() + i);
        __m256 x0 = _mm256_loadu_ps(head + i), x1 = _mm256_loadu_ps(head + i + half);
        _mm256_storeu_ps(head + i, _mm256_fmsub_ps(x0, c, _mm256_mul_ps(x1, s)));
        _mm256_storeu_ps(head + i + half, _mm256_fmadd_ps(x1, c, _mm256_mul_ps(x0, s)));
      }
      for (; i < half; ++i) {
        float x0 = head[i], x1 = head[i + half];
        head[i] = x0 * cos_table[i] - x1 * sin_table[i];
        head[i + half] = x1 * cos_table[i] + x0 * sin_table[i];
      }
    }
  }
}

void silu_mul(float* out, const float* gate, const float* up, int64_t n) {
  const __m256 one = _mm256_set1_ps(1.0f);
  const __m256 sign = _mm256_set1_ps(-0.0f);
  const auto silu_mul8 = [&](__m256 g, __m256 u) {
    return _mm256_mul_ps(_mm256_div_ps(g, _mm256_add_ps(one, exp256(_mm256_xor_ps(g, sign)))), u);
  };
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(out + i, silu_mul8(_mm256_loadu_ps(gate + i), _mm256_loadu_ps(up + i)));
  if (i < n) {
    // The last n % 8 through the same vector exp (masked), not scalar libm exp: an element's value then does not
    // depend on where the thread pool cut the range.
    const __m256i lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    const __m256i mask = _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(n - i)), lanes);
    const __m256 g = _mm256_maskload_ps(gate + i, mask), u = _mm256_maskload_ps(up + i, mask);
    _mm256_maskstore_ps(out + i, mask, silu_mul8(g, u));
  }
}

void silu_mul_backward(float* dgate, float* dup, const float* dout, const float* gate, const float* up, int64_t n) {
  const __m256 one = _mm256_set1_ps(1.0f);
  const __m256 sign = _mm256_set1_ps(-0.0f);
  // dup = dout·z·σ, dgate = dout·up·σ·(1 + z·(1 − σ)), σ = 1 / (1 + e^−z).
  const auto grads8 = [&](__m256 d, __m256 z, __m256 u, __m256& dg, __m256& du) {
    const __m256 sig = _mm256_div_ps(one, _mm256_add_ps(one, exp256(_mm256_xor_ps(z, sign))));
    const __m256 ds = _mm256_mul_ps(d, sig);
    du = _mm256_mul_ps(ds, z);
    dg = _mm256_mul_ps(_mm256_mul_ps(ds, u), _mm256_fmadd_ps(z, _mm256_sub_ps(one, sig), one));
  };
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    __m256 dg, du;
    grads8(_mm256_loadu_ps(dout + i), _mm256_loadu_ps(gate + i), _mm256_loadu_ps(up + i), dg, du);
    _mm256_storeu_ps(dgate + i, dg);
    _mm256_storeu_ps(dup + i, du);
  }
  if (i < n) {
    const __m256i lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    const __m256i mask = _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(n - i)), lanes);
    __m256 dg, du;
    grads8(_mm256_maskload_ps(dout + i, mask), _mm256_maskload_ps(gate + i, mask), _mm256_maskload_ps(up + i, mask),
           dg, du);
    _mm256_maskstore_ps(dgate + i, mask, dg);
    _mm256_maskstore_ps(dup + i, mask, du);
  }
}

void add_inplace(float* y, const float* x, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, _mm256_add_ps(_mm256_loadu_ps(y + i), _mm256_loadu_ps(x + i)));
  for (; i < n; ++i) y[i] += x[i];
}

namespace {
// All ones in lane j where keep[j] ≠ 0, for 8 bytes of a mask.
__m256 kept_lanes(const uint8_t* keep) {
  const __m256i bytes = _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(keep)));
  return _mm256_castsi256_ps(_mm256_cmpgt_epi32(bytes, _mm256_setzero_si256()));
}
}  // namespace

void dropout_scale(float* out, const float* x, const uint8_t* keep, int64_t n, float scale) {
  const __m256 s = _mm256_set1_ps(scale);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    _mm256_storeu_ps(out + i, _mm256_and_ps(kept_lanes(keep + i), _mm256_mul_ps(s, _mm256_loadu_ps(x + i))));
  }
  for (; i < n; ++i) out[i] = keep[i] ? scale * x[i] : 0.0f;
}

void add_dropout_scaled(float* y, const float* x, const uint8_t* keep, int64_t n, float scale) {
  const __m256 s = _mm256_set1_ps(scale);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 old = _mm256_loadu_ps(y + i);
    const __m256 updated = _mm256_fmadd_ps(s, _mm256_loadu_ps(x + i), old);
    _mm256_storeu_ps(y + i, _mm256_blendv_ps(old, updated, kept_lanes(keep + i)));
  }
  for (; i < n; ++i) {
    if (keep[i]) y[i] = std::fma(scale, x[i], y[i]);
  }
}

void log_softmax(float* out, const float* x, int64_t n_rows, int64_t dim) {
  for (int64_t r = 0; r < n_rows; ++r) {
    const float* xr = x + r * dim;
    float* yr = out + r * dim;
    float max = max_of(xr, dim);
    float log_sum = std::log(sum_exp(xr, dim, max));
    __m256 vmax = _mm256_set1_ps(max), vlog_sum = _mm256_set1_ps(log_sum);
    int64_t i = 0;
    for (; i + 8 <= dim; i += 8) {
      _mm256_storeu_ps(yr + i, _mm256_sub_ps(_mm256_sub_ps(_mm256_loadu_ps(xr + i), vmax), vlog_sum));
    }
    for (; i < dim; ++i) yr[i] = xr[i] - max - log_sum;
  }
}

float log_sum_exp(const float* x, int64_t n) {
  const float max = max_of(x, n);
  return max + std::log(sum_exp(x, n, max));
}

void exp_shifted_scaled(float* out, const float* x, int64_t n, float shift, float scale) {
  const __m256 s = _mm256_set1_ps(shift), c = _mm256_set1_ps(scale);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    _mm256_storeu_ps(out + i, _mm256_mul_ps(c, exp256(_mm256_sub_ps(_mm256_loadu_ps(x + i), s))));
  }
  for (; i < n; ++i) out[i] = scale * std::exp(x[i] - shift);
}

void exp_vector(float* out, const float* x, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(out + i, exp256(_mm256_loadu_ps(x + i)));
  if (i < n) {
    float in[8] = {}, res[8];
    std::copy(x + i, x + n, in);
    _mm256_storeu_ps(res, exp256(_mm256_loadu_ps(in)));
    std::copy(res, res + (n - i), out + i);
  }
}

}  // namespace pagedllm::avx2
