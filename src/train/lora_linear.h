// A frozen linear layer with an optional LoRA adapter: y = x·Wᵀ + scale·(dropout(x)·Aᵀ)·Bᵀ (train/lora.h).
// W is reached only through its two products, so it may be a WeightMatrix in any storage format (NF4 for QLoRA;
// dx flows through the format's own dy·W kernel, never through an fp32 copy of W) or, in gradient checks, a dense
// double matrix. Only A and B receive gradients.
#pragma once

#include <cstdint>
#include <functional>

#include "kernels/weight_matrix.h"
#include "train/lora.h"

namespace pagedllm {

template <typename T>
struct FrozenLinear {
  int64_t n_in = 0;
  int64_t n_out = 0;
  std::function<void(const T* x, T* y, int64_t n_rows)> matmul;            // y (n_rows, n_out) = x·Wᵀ, assigned
  std::function<void(const T* dy, T* dx, int64_t n_rows)> matmul_backward;  // dx (n_rows, n_in) = dy·W, assigned
};

// The training view of a WeightMatrix (which must outlive the result). `bias` (n_out values, or null) is added to
// every output row: a frozen bias (Qwen2's q/k/v) leaves the gradients unchanged.
FrozenLinear<float> frozen_linear(const WeightMatrix& w, const float* bias = nullptr);

template <typename T>
struct LoraLinear {
  FrozenLinear<T> base;
  const T* A = nullptr;  // (rank, n_in); null: no adapter on this layer
  const T* B = nullptr;  // (n_out, rank)
  T* dA = nullptr;       // gradients, accumulated (+=)
  T* dB = nullptr;
  LoraDims dims;         // n_in/n_out equal base's; rank, scale, dropout
};

// y (n_rows, n_out) = x·Wᵀ + adapter. Saves xa (n_rows, rank) for backward (untouched without an adapter).
// keep: dropout mask (n_rows, n_in) or null. y may be null: then only xa is computed (what backward needs).
template <typename T>
void lora_linear_forward(T* y, T* xa, const LoraLinear<T>& layer, const T* x, const uint8_t* keep, int64_t n_rows);

// dx (n_rows, n_in) = dy·W + adapter part (assigned; skipped when dx is null, e.g. below the first layer);
// layer.dA, layer.dB += their gradients.
template <typename T>
void lora_linear_backward(T* dx, const LoraLinear<T>& layer, const T* dy, const T* x, const uint8_t* keep,
                          const T* xa, int64_t n_rows);

}  // namespace pagedllm
