// The trainable parameters of a LoRA run: one LoraModuleWeights (peft_adapter.h) per adapted linear layer, with
// matching gradient buffers, initialized as PEFT does, and flattened into the tensor lists that the optimizer,
// gradient clipping and checkpoints take (order: A₀, B₀, A₁, B₁, … in module order).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "formats/peft_adapter.h"
#include "util/rng.h"

namespace pagedllm {

struct LoraModuleSpec {
  int64_t layer = 0;
  std::string module;  // "self_attn.q_proj", "mlp.down_proj", ...
  int64_t n_in = 0;
  int64_t n_out = 0;
};

// A ~ kaiming_uniform(a = √5) = U(−1/√n_in, 1/√n_in), drawn from rng in module order; B = 0 (so the adapted model
// starts equal to the base model).
std::vector<LoraModuleWeights> init_lora_modules(const std::vector<LoraModuleSpec>& specs, int64_t rank, Rng& rng);

// Gradient buffers shaped like the modules' A and B, zeroed.
std::vector<LoraModuleWeights> zero_like(const std::vector<LoraModuleWeights>& modules);
void set_zero(std::vector<LoraModuleWeights>& grads);

std::vector<float*> parameter_tensors(std::vector<LoraModuleWeights>& modules);
std::vector<int64_t> parameter_sizes(const std::vector<LoraModuleWeights>& modules);

}  // namespace pagedllm
