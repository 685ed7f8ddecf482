// The AdamW update (decoupled weight decay, bias-corrected moments) of one chunk of parameters, with its moments
// in fp32 or in bitsandbytes' blockwise 8-bit form. PagedAdamW (paged_adamw.h) runs these over paged state.
#pragma once

#include <cstdint>

namespace pagedllm {

// Defaults of torch.optim.AdamW / Hugging Face TrainingArguments (adam_beta1/2, adam_epsilon); QLoRA sets
// weight_decay 0.
struct AdamWOptions {
  float beta1 = 0.9f;
  float beta2 = 0.999f;
  float eps = 1e-8f;
  float weight_decay = 0.0f;
};

// torch.optim.AdamW for n elements at step t (1-based): p ← p·(1 − lr·wd); m ← β1·m + (1−β1)·g;
// v ← β2·v + (1−β2)·g²; p ← p − (lr / (1−β1ᵗ)) · m / (sqrt(v) / sqrt(1−β2ᵗ) + eps). param, grad, m, v: (n).
void adamw_update_32bit(float* param, const float* grad, float* m, float* v, int64_t n, float lr, int64_t step,
                        const AdamWOptions& options);

// bitsandbytes' blockwise 8-bit AdamW (kOptimizerStatic8bit2StateBlockwise) for one block of n ≤ 256 elements:
// m = signed_map[m_code]·absmax_m, v = unsigned_map[v_code]·absmax_v; the moments are updated as above in fp32;
// p ← p − lr·(sqrt(1−β2ᵗ)/(1−β1ᵗ)) · m / (sqrt(v) + sqrt(1−β2ᵗ)·eps), then p ← p·(1 − lr·wd); the new absmax of
// each moment is its block maximum and each value is stored as the nearest map entry of value / absmax (m keeps
// its sign). A non-finite gradient zeroes that element's moments and leaves the parameter unchanged, as bnb does.
// All-zero codes with absmax 0 are the initial (zero) state.
void adamw_update_8bit_block(float* param, const float* grad, uint8_t* m_codes, uint8_t* v_codes, float* absmax_m,
                             float* absmax_v, int64_t n, float lr, int64_t step, const AdamWOptions& options);

}  // namespace pagedllm
