// LoRA adapters served on top of the base model (vLLM's multi-LoRA): each adapter adds
// scale · (x·Aᵀ)·Bᵀ to the output of the linear layers it targets, scale = lora_alpha / r.
// Adapters live in slots 1..N; slot 0 means "base model only". Loaded from PEFT folders
// (adapter_config.json + adapter_model.safetensors).
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "formats/checkpoint_layout.h"
#include "formats/model_config.h"
#include "formats/peft_adapter.h"
#include "model/tensor_parallel_shard.h"

namespace pagedllm {

struct LoraWeights {
  int n_rank = 0;
  std::vector<float> a;  // (n_rank, n_in)
  std::vector<float> b;  // (n_out, n_rank)
  bool empty() const { return a.empty(); }
};

struct LoraAdapter {
  std::string name;
  std::string path;
  int r = 0;
  float alpha = 0.0f;
  float scale = 0.0f;  // alpha / r (alpha / sqrt(r) with use_rslora)
  std::vector<std::string> target_modules;
  std::string base_quantization;  // the base format it was trained against (LoraConfig), empty when unknown
  std::vector<std::array<LoraWeights, kNumLinearModules>> layers;  // [layer][LinearModule]
};

// Reads a PEFT adapter folder (formats/peft_adapter.h, the one reader) and checks every module against the base
// config. Throws Error naming the file and module. With a shard, keeps the rank's slice of each module the way its
// base module is split: B's output rows of a column-parallel module, A's input columns of a row-parallel one (the
// ranks' partial B·A·x then add up in the base module's all-reduce).
LoraAdapter load_served_adapter(const std::string& name, const std::string& dir, const ModelConfig& config,
                                int max_lora_rank, const TensorParallelShard& shard = {});

class LoraManager {
 public:
  // Returns the slot (≥ 1) of the new adapter. Throws Error(kInvalidArgument) for a duplicate name.
  int add(LoraAdapter adapter);
  // 0 when `name` is empty; Error(kNotFound) naming the adapter when unknown.
  int slot_of(const std::string& name) const;
  std::vector<std::string> names() const;
  const LoraAdapter& adapter(int slot) const { return adapters_.at(slot - 1); }
  bool empty() const { return adapters_.empty(); }

  // y[r, :] += scale · (x[r, :]·Aᵀ)·Bᵀ for rows [row_begin, row_end) with the adapter in `slot` (no-op if the
  // adapter does not target this module). x: (rows, n_in), y: (rows, n_out), row-major.
  void apply(int slot, int layer, int module, const float* x, float* y, int64_t row_begin, int64_t row_end,
             int64_t n_in, int64_t n_out) const;

 private:
  std::vector<LoraAdapter> adapters_;
};

}  // namespace pagedllm
