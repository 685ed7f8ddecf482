#include "model/lora_adapters.h"

#include <algorithm>
#include <cmath>

#include "util/error.h"

namespace pagedllm {

namespace {

void shard_lora_weights(LoraWeights& w, const LinearModuleShape& shape, const MatrixSlice& slice) {
  const int64_t rank = w.n_rank;
  if (slice.splits_input) {
    std::vector<float> a(size_t(rank * slice.count));
    for (int64_t k = 0; k < rank; ++k) {
      std::copy_n(w.a.begin() + k * shape.n_in + slice.begin, slice.count, a.begin() + k * slice.count);
    }
    w.a = std::move(a);
  } else {
    w.b = std::vector<float>(w.b.begin() + slice.begin * rank, w.b.begin() + (slice.begin + slice.count) * rank);
  }
}

}  // namespace

LoraAdapter load_served_adapter(const std::string& name, const std::string& dir, const ModelConfig& config,
                                int max_lora_rank, const TensorParallelShard& shard) {
  PeftAdapter peft = load_peft_adapter(dir);
  LoraAdapter a;
  a.name = name;
  a.path = dir;
  a.r = static_cast<int>(peft.config.r);
  if (a.r > max_lora_rank) {
    throw_error(ErrorKind::kInvalidArgument, "{}: rank {} exceeds --max-lora-rank {}", dir, a.r, max_lora_rank);
  }
  a.alpha = static_cast<float>(peft.config.lora_alpha);
  a.scale = static_cast<float>(peft.config.scale());
  a.base_quantization = peft.config.base_quantization;
  a.layers.resize(config.num_hidden_layers);
  for (LoraModuleWeights& m : peft.modules) {
    const int module = find_linear_module(m.module);
    const LinearModuleShape shape = linear_module_shape(config, module);
    if (m.layer >= config.num_hidden_layers) {
      throw_error(ErrorKind::kInvalidArgument, "{}: adapts layers.{}.{} but the model has {} layers", dir, m.layer,
                  m.module, config.num_hidden_layers);
    }
    if (m.n_out != shape.n_out || m.n_in != shape.n_in) {
      throw_error(ErrorKind::kInvalidArgument, "{}: layers.{}.{} is ({}, {}) but the base model's layer is ({}, {})",
                  dir, m.layer, m.module, m.n_out, m.n_in, shape.n_out, shape.n_in);
    }
    LoraWeights& w = a.layers[m.layer][module];
    w.n_rank = a.r;
    w.a = std::move(m.A);
    w.b = std::move(m.B);
    if (shard.is_sharded()) shard_lora_weights(w, shape, linear_module_slice(config, module, shard));
    const char* leaf = linear_module_names(module).leaf;
    if (std::find(a.target_modules.begin(), a.target_modules.end(), leaf) == a.target_modules.end()) {
      a.target_modules.push_back(leaf);
    }
  }
  return a;
}

int LoraManager::add(LoraAdapter adapter) {
  for (const auto& a : adapters_) {
    if (a.name == adapter.name) throw_error(ErrorKind::kInvalidArgument, "LoRA adapter name '{}' is used twice", adapter.name);
  }
  adapters_.push_back(std::move(adapter));
  return static_cast<int>(adapters_.size());
}

int LoraManager::slot_of(const std::string& name) const {
  if (name.empty()) return 0;
  for (size_t i = 0; i < adapters_.size(); ++i) {
    if (adapters_[i].name == name) return static_cast<int>(i + 1);
  }
  throw_error(ErrorKind::kNotFound, "unknown LoRA adapter '{}'", name);
}

std::vector<std::string> LoraManager::names() const {
  std::vector<std::string> out;
  for (const auto& a : adapters_) out.push_back(a.name);
  return out;
}

void LoraManager::apply(int slot, int layer, int module, const float* x, float* y, int64_t row_begin, int64_t row_end,
                        int64_t n_in, int64_t n_out) const {
  if (slot <= 0) return;
  const LoraAdapter& a = adapters_.at(slot - 1);
  const LoraWeights& w = a.layers[layer][module];
  if (w.empty()) return;
  std::vector<float> t(w.n_rank);
  for (int64_t r = row_begin; r < row_end; ++r) {
    const float* xr = x + r * n_in;
    for (int k = 0; k < w.n_rank; ++k) {
      const float* ak = w.a.data() + int64_t(k) * n_in;
      float s = 0.0f;
      for (int64_t i = 0; i < n_in; ++i) s += ak[i] * xr[i];
      t[k] = s * a.scale;
    }
    float* yr = y + r * n_out;
    for (int64_t o = 0; o < n_out; ++o) {
      const float* bo = w.b.data() + o * w.n_rank;
      float s = 0.0f;
      for (int k = 0; k < w.n_rank; ++k) s += bo[k] * t[k];
      yr[o] += s;
    }
  }
}

}  // namespace pagedllm
