#include "kernels/rmsnorm.h"

#include <cmath>

#include "kernels/elementwise_dispatch.h"
#include "kernels/generic/elementwise.h"
#include "kernels/x86_avx2/elementwise.h"
#include "util/error.h"
#include "util/thread_pool.h"

namespace pagedllm {

using namespace elementwise_dispatch;

void rmsnorm(float* out, const float* x, const float* weight, int64_t n_rows, int64_t dim, float eps) {
  auto* fn = use_avx2() ? &avx2::rmsnorm : &generic::rmsnorm;
  parallel_for(n_rows, rows_per_task(dim), [&](int64_t begin, int64_t end) {
    fn(out + begin * dim, x + begin * dim, weight, end - begin, dim, eps);
  });
}


template <typename T>
void rmsnorm_forward(T* out, T* rstd, const T* x, const T* weight, int64_t n_rows, int64_t dim, T eps) {
  parallel_for(n_rows, 16, [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      const T* xr = x + r * dim;
      T sum_sq = 0;
      for (int64_t i = 0; i < dim; ++i) sum_sq += xr[i] * xr[i];
      const T s = T(1) / std::sqrt(sum_sq / static_cast<T>(dim) + eps);
      rstd[r] = s;
      T* outr = out + r * dim;
      for (int64_t i = 0; i < dim; ++i) outr[i] = xr[i] * s * weight[i];
    }
  });
}

// Training's float forward is serving's kernel, plus the rstd its backward needs: the very scale the kernel applied
// (its vector sum of squares, not a second, scalar one whose one-add-at-a-time chain made it slower than the norm).
template <>
void rmsnorm_forward<float>(float* out, float* rstd, const float* x, const float* weight, int64_t n_rows, int64_t dim,
                            float eps) {
  rmsnorm(out, x, weight, n_rows, dim, eps);
  auto* fn = use_avx2() ? &avx2::rms_scales : &generic::rms_scales;
  parallel_for(n_rows, rows_per_task(dim), [&](int64_t begin, int64_t end) {
    fn(rstd + begin, x + begin * dim, end - begin, dim, eps);
  });
}

// With y_i = x_i·s·w_i and s = (mean(x²) + eps)^(-1/2):  ∂s/∂x_j = −s³·x_j/dim, so
// dx_j = s·w_j·dy_j − (s³/dim)·x_j·Σ_i dy_i·w_i·x_i.
template <typename T>
void rmsnorm_backward(T* dx, T* dweight, const T* dout, const T* x, const T* weight, const T* rstd, int64_t n_rows,
                      int64_t dim) {
  parallel_for(n_rows, 16, [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      const T* xr = x + r * dim;
      const T* dyr = dout + r * dim;
      const T s = rstd[r];
      T dot = 0;
      for (int64_t i = 0; i < dim; ++i) dot += dyr[i] * weight[i] * xr[i];
      const T coef = s * s * s * dot / static_cast<T>(dim);
      T* dxr = dx + r * dim;
      for (int64_t i = 0; i < dim; ++i) dxr[i] = s * weight[i] * dyr[i] - coef * xr[i];
    }
  });
  if (dweight == nullptr) return;
  // Columns are split across threads so that each dweight element has one writer.
  parallel_for(dim, 64, [&](int64_t begin, int64_t end) {
    for (int64_t r = 0; r < n_rows; ++r) {
      const T* xr = x + r * dim;
      const T* dyr = dout + r * dim;
      for (int64_t i = begin; i < end; ++i) dweight[i] += dyr[i] * xr[i] * rstd[r];
    }
  });
}

// Training's float backward: the vector rows, then dweight as above.
template <>
void rmsnorm_backward<float>(float* dx, float* dweight, const float* dout, const float* x, const float* weight,
                             const float* rstd, int64_t n_rows, int64_t dim) {
  auto* fn = use_avx2() ? &avx2::rmsnorm_backward_rows : &generic::rmsnorm_backward_rows;
  parallel_for(n_rows, rows_per_task(dim), [&](int64_t begin, int64_t end) {
    fn(dx + begin * dim, dout + begin * dim, x + begin * dim, weight, rstd + begin, end - begin, dim);
  });
  if (dweight == nullptr) return;
  parallel_for(dim, 64, [&](int64_t begin, int64_t end) {
    for (int64_t r = 0; r < n_rows; ++r) {
      const float* xr = x + r * dim;
      const float* dyr = dout + r * dim;
      for (int64_t i = begin; i < end; ++i) dweight[i] += dyr[i] * xr[i] * rstd[r];
    }
  });
}

template void rmsnorm_forward<double>(double*, double*, const double*, const double*, int64_t, int64_t, double);
template void rmsnorm_backward<double>(double*, double*, const double*, const double*, const double*, const double*,
                                       int64_t, int64_t);

}  // namespace pagedllm
