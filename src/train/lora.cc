#include "train/lora.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <memory>
#include <type_traits>

#include "kernels/compute_dtype.h"
#include "kernels/cpu_features.h"
#include "kernels/elementwise.h"
#include "kernels/gemm.h"
#include "kernels/x86_avx512/xoshiro_lanes.h"
#include "util/error.h"
#include "util/rng.h"
#include "util/thread_pool.h"

namespace pagedllm {
namespace {

// dropout(x) = x ⊙ keep / (1 − p), into a new buffer (left uninitialized: every element is written).
template <typename T>
std::unique_ptr<T[]> apply_dropout(const T* x, const uint8_t* keep, int64_t n, float p) {
  const T inv_keep = T(1) / (T(1) - static_cast<T>(p));
  std::unique_ptr<T[]> out(new T[static_cast<size_t>(n)]);
  if constexpr (std::is_same_v<T, float>) {
    dropout_scale(out.get(), x, keep, n, inv_keep);
  } else {
    for (int64_t i = 0; i < n; ++i) out[i] = keep[i] ? inv_keep * x[i] : T(0);
  }
  return out;
}

// dx += dropout'(dxd) = dxd ⊙ keep / (1 − p).
template <typename T>
void add_dropout_gradient(T* dx, const T* dxd, const uint8_t* keep, int64_t n, float p) {
  const T inv_keep = T(1) / (T(1) - static_cast<T>(p));
  if constexpr (std::is_same_v<T, float>) {
    add_dropout_scaled(dx, dxd, keep, n, inv_keep);
  } else {
    for (int64_t i = 0; i < n; ++i) {
      if (keep[i]) dx[i] = std::fma(inv_keep, dxd[i], dx[i]);
    }
  }
}

uint64_t mix(uint64_t h, uint64_t v) {
  Rng rng(h ^ (v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2)));
  return rng.next_u64();
}

}  // namespace

std::vector<uint8_t> make_dropout_mask(uint64_t seed, float p, int64_t n) {
  std::vector<uint8_t> keep;
  make_dropout_mask(keep, seed, p, n);
  return keep;
}

void make_dropout_mask(std::vector<uint8_t>& keep, uint64_t seed, float p, int64_t n) {
  PAGEDLLM_CHECK_MSG(p >= 0.0f && p < 1.0f, "dropout probability {} outside [0, 1)", p);
  if (p == 0.0f) {
    keep.clear();
    return;
  }
  keep.resize(static_cast<size_t>(n));
  const int64_t num_runs = (n + kDropoutRun - 1) / kDropoutRun;
  // uniform() ≥ p, decided on the 53 bits uniform() scales: (x >> 11) · 2⁻⁵³ ≥ p ⟺ (x >> 11) ≥ ⌈p · 2⁵³⌉ (p · 2⁵³
  // is exact in double), without the conversion.
  const uint64_t threshold = static_cast<uint64_t>(std::ceil(static_cast<double>(p) * 0x1.0p53));
  // Runs are drawn four at a time, element i of each in one iteration, so the CPU overlaps the generators'
  // independent dependency chains; with AVX-512, eight at a time as the lanes of one register (drawing one element
  // at a time was 5% of a SmolLM2 fine-tuning step).
  const bool eight_lanes = has_avx512();
  const int64_t lanes_per_group = eight_lanes ? 8 : 4;
  parallel_for((num_runs + lanes_per_group - 1) / lanes_per_group, 1, [&](int64_t begin, int64_t end) {
    for (int64_t g = begin; g < end; ++g) {
      const int64_t r0 = g * lanes_per_group;
      const int64_t lanes = std::min(lanes_per_group, num_runs - r0);
      Rng rngs[8];
      uint8_t* starts[8];
      int64_t lengths[8];
      int64_t common = kDropoutRun;
      for (int64_t l = 0; l < lanes; ++l) {
        rngs[l] = Rng(mix(seed, static_cast<uint64_t>(r0 + l)));
        starts[l] = keep.data() + (r0 + l) * kDropoutRun;
        lengths[l] = std::min(n - (r0 + l) * kDropoutRun, kDropoutRun);
        common = std::min(common, lengths[l]);
      }
      int64_t i = 0;
      if (lanes == 8) {
        std::array<std::array<uint64_t, 4>, 8> states;
        for (int l = 0; l < 8; ++l) states[l] = rngs[l].state();
        avx512::bernoulli_keep_x8(states, threshold, starts, common);
        for (int l = 0; l < 8; ++l) rngs[l].set_state(states[l]);
        i = common;
      } else if (lanes == 4) {
        for (; i < common; ++i) {
          for (int64_t l = 0; l < 4; ++l) starts[l][i] = (rngs[l].next_u64() >> 11) >= threshold ? 1 : 0;
        }
      }
      for (int64_t l = 0; l < lanes; ++l) {
        for (int64_t j = i; j < lengths[l]; ++j) starts[l][j] = (rngs[l].next_u64() >> 11) >= threshold ? 1 : 0;
      }
    }
  });
}

uint64_t dropout_seed(uint64_t run_seed, int64_t step, int64_t micro_batch, int64_t layer, int64_t module) {
  uint64_t h = mix(run_seed, static_cast<uint64_t>(step));
  h = mix(h, static_cast<uint64_t>(micro_batch));
  h = mix(h, static_cast<uint64_t>(layer));
  return mix(h, static_cast<uint64_t>(module));
}

template <typename T>
void lora_forward(T* y, T* xa, const T* x, const uint8_t* keep, const T* A, const T* B, int64_t n_rows,
                  const LoraDims& d) {
  const T scale = static_cast<T>(d.scale);
  const ComputeDType dtype = training_matmul_compute();
  if (keep != nullptr) {
    const std::unique_ptr<T[]> xd = apply_dropout(x, keep, n_rows * d.n_in, d.dropout);
    gemm_in<T>(dtype, false, true, n_rows, d.rank, d.n_in, T(1), xd.get(), A, T(0), xa);
  } else {
    gemm_in<T>(dtype, false, true, n_rows, d.rank, d.n_in, T(1), x, A, T(0), xa);
  }
  if (y != nullptr) gemm_in<T>(dtype, false, true, n_rows, d.n_out, d.rank, scale, xa, B, T(1), y);
}

// dB += scale·dyᵀ·xa;  dxa = scale·dy·B;  dA += dxaᵀ·dropout(x);  dx += dropout'(dxa·A).
template <typename T>
void lora_backward(T* dx, T* dA, T* dB, const T* dy, const T* x, const uint8_t* keep, const T* xa, const T* A,
                   const T* B, int64_t n_rows, const LoraDims& d) {
  const T scale = static_cast<T>(d.scale);
  const ComputeDType dtype = training_matmul_compute();
  gemm_in<T>(dtype, true, false, d.n_out, d.rank, n_rows, scale, dy, xa, T(1), dB);
  std::vector<T> dxa(n_rows * d.rank);
  gemm_in<T>(dtype, false, false, n_rows, d.rank, d.n_out, scale, dy, B, T(0), dxa.data());
  if (keep == nullptr) {
    gemm_in<T>(dtype, true, false, d.rank, d.n_in, n_rows, T(1), dxa.data(), x, T(1), dA);
    if (dx != nullptr) gemm_in<T>(dtype, false, false, n_rows, d.n_in, d.rank, T(1), dxa.data(), A, T(1), dx);
    return;
  }
  const int64_t n = n_rows * d.n_in;
  const std::unique_ptr<T[]> xd = apply_dropout(x, keep, n, d.dropout);
  gemm_in<T>(dtype, true, false, d.rank, d.n_in, n_rows, T(1), dxa.data(), xd.get(), T(1), dA);
  if (dx == nullptr) return;
  const std::unique_ptr<T[]> dxd(new T[static_cast<size_t>(n)]);
  gemm_in<T>(dtype, false, false, n_rows, d.n_in, d.rank, T(1), dxa.data(), A, T(0), dxd.get());
  add_dropout_gradient(dx, dxd.get(), keep, n, d.dropout);
}

template void lora_forward<float>(float*, float*, const float*, const uint8_t*, const float*, const float*, int64_t,
                                  const LoraDims&);
template void lora_forward<double>(double*, double*, const double*, const uint8_t*, const double*, const double*,
                                   int64_t, const LoraDims&);
template void lora_backward<float>(float*, float*, float*, const float*, const float*, const uint8_t*, const float*,
                                   const float*, const float*, int64_t, const LoraDims&);
template void lora_backward<double>(double*, double*, double*, const double*, const double*, const uint8_t*,
                                    const double*, const double*, const double*, int64_t, const LoraDims&);

}  // namespace pagedllm
