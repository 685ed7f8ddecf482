#include "train/lora_linear.h"

#include "util/error.h"

namespace pagedllm {
namespace {

template <typename T>
void check_dims(const LoraLinear<T>& layer) {
  PAGEDLLM_CHECK_MSG(layer.A == nullptr || (layer.base.n_in == layer.dims.n_in && layer.base.n_out == layer.dims.n_out),
                     "LoRA dims ({}, {}) do not match the weight ({}, {})", layer.dims.n_out, layer.dims.n_in,
                     layer.base.n_out, layer.base.n_in);
}

}  // namespace

FrozenLinear<float> frozen_linear(const WeightMatrix& w, const float* bias) {
  return {w.n_in(), w.n_out(),
          [&w, bias](const float* x, float* y, int64_t n) {
            w.matmul_exact(x, y, n);
            if (bias == nullptr) return;
            for (int64_t r = 0; r < n; ++r) {
              for (int64_t o = 0; o < w.n_out(); ++o) y[r * w.n_out() + o] += bias[o];
            }
          },
          [&w](const float* dy, float* dx, int64_t n) { w.matmul_backward_input(dy, dx, n); }};
}

template <typename T>
void lora_linear_forward(T* y, T* xa, const LoraLinear<T>& layer, const T* x, const uint8_t* keep, int64_t n_rows) {
  check_dims(layer);
  if (y != nullptr) layer.base.matmul(x, y, n_rows);
  if (layer.A != nullptr) lora_forward<T>(y, xa, x, keep, layer.A, layer.B, n_rows, layer.dims);
}

template <typename T>
void lora_linear_backward(T* dx, const LoraLinear<T>& layer, const T* dy, const T* x, const uint8_t* keep,
                          const T* xa, int64_t n_rows) {
  check_dims(layer);
  if (dx != nullptr) layer.base.matmul_backward(dy, dx, n_rows);
  if (layer.A != nullptr) {
    lora_backward<T>(dx, layer.dA, layer.dB, dy, x, keep, xa, layer.A, layer.B, n_rows, layer.dims);
  }
}

template void lora_linear_forward<float>(float*, float*, const LoraLinear<float>&, const float*, const uint8_t*,
                                         int64_t);
template void lora_linear_forward<double>(double*, double*, const LoraLinear<double>&, const double*,
                                          const uint8_t*, int64_t);
template void lora_linear_backward<float>(float*, const LoraLinear<float>&, const float*, const float*,
                                          const uint8_t*, const float*, int64_t);
template void lora_linear_backward<double>(double*, const LoraLinear<double>&, const double*, const double*,
                                           const uint8_t*, const double*, int64_t);

}  // namespace pagedllm
