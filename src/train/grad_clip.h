// Gradient clipping by global norm, as torch.nn.utils.clip_grad_norm_ (HF Trainer's max_grad_norm).
#pragma once

#include <cstdint>
#include <vector>

namespace pagedllm {

// total = sqrt(Σ over all tensors of Σ g²) (accumulated in double, in tensor order, so it does not depend on
// threads). If max_norm > 0, every gradient is scaled by min(1, max_norm / (total + 1e-6)). Returns total (before
// clipping) — the "grad_norm" a trainer logs.
double clip_grad_norm(const std::vector<float*>& grads, const std::vector<int64_t>& sizes, double max_norm);

}  // namespace pagedllm
