// The low-rank adapter of one linear layer, forward and backward (gradient convention: kernels/gradients.h):
//   delta_y = scale · (dropout(x) · Aᵀ) · Bᵀ,   A: (rank, n_in), B: (n_out, rank), scale = lora_alpha / rank,
// as in PEFT's LoRA Linear. dropout(x) = x ⊙ keep / (1 − p) with a mask drawn from a seed, so a recomputed
// forward (gradient checkpointing) or a resumed run draws the very same mask.
#pragma once

#include <cstdint>
#include <vector>

namespace pagedllm {

struct LoraDims {
  int64_t n_in = 0;
  int64_t n_out = 0;
  int64_t rank = 0;
  double scale = 1.0;    // lora_alpha / rank
  float dropout = 0.0f;  // probability of zeroing an input element, in [0, 1)
};

// keep (n): 1 with probability 1 − p, else 0. Empty when p == 0. Drawn in runs of kDropoutRun elements, run r from
// its own generator seeded by (seed, r), on the thread pool: the mask depends on the seed only, never on the number
// of threads (drawing it sequentially was 1.5-3% of a fine-tuning step).
constexpr int64_t kDropoutRun = 16384;
std::vector<uint8_t> make_dropout_mask(uint64_t seed, float p, int64_t n);
// The same mask into `keep` (resized to n, or cleared when p == 0): a buffer reused across blocks is not zeroed again
// before every element is drawn over it.
void make_dropout_mask(std::vector<uint8_t>& keep, uint64_t seed, float p, int64_t n);

// The seed of the dropout mask of one LoRA module in one forward pass: a hash of all coordinates, so masks are
// independent across steps, micro-batches, layers and modules and need no saved state.
uint64_t dropout_seed(uint64_t run_seed, int64_t step, int64_t micro_batch, int64_t layer, int64_t module);

// y (n_rows, n_out) += scale · (dropout(x)·Aᵀ)·Bᵀ. x: (n_rows, n_in); keep: (n_rows, n_in) or null (no dropout).
// Saves xa (n_rows, rank) = dropout(x)·Aᵀ for backward. y may be null: then only xa is computed.
template <typename T>
void lora_forward(T* y, T* xa, const T* x, const uint8_t* keep, const T* A, const T* B, int64_t n_rows,
                  const LoraDims& dims);

// From dy (n_rows, n_out): dA (rank, n_in) += ∂L/∂A, dB (n_out, rank) += ∂L/∂B, and, when dx is not null,
// dx (n_rows, n_in) += the adapter's part of ∂L/∂x — ADDED, because the frozen weight's part dy·W was assigned to
// dx just before (see lora_linear_backward). x, keep, xa as given to / saved by lora_forward.
template <typename T>
void lora_backward(T* dx, T* dA, T* dB, const T* dy, const T* x, const uint8_t* keep, const T* xa, const T* A,
                   const T* B, int64_t n_rows, const LoraDims& dims);

}  // namespace pagedllm
