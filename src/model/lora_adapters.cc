#include "model/lora_adapters.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>

#include "formats/safetensors.h"
#include "util/error.h"
#include "util/mapped_file.h"

namespace pagedllm {

const char* linear_module_name(int module) {
  static const char* kNames[] = {"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"};
  return kNames[module];
}

namespace {

// (n_out, n_in) of each module for this config.
std::pair<int64_t, int64_t> module_shape(const ModelConfig& c, int module) {
  const int64_t h = c.hidden_size, q = int64_t(c.num_attention_heads) * c.head_dim,
                kv = int64_t(c.num_key_value_heads) * c.head_dim, ff = c.intermediate_size;
  switch (module) {
    case kQProj: return {q, h};
    case kKProj: return {kv, h};
    case kVProj: return {kv, h};
    case kOProj: return {h, q};
    case kGateProj: return {ff, h};
    case kUpProj: return {ff, h};
    default: return {h, ff};
  }
}

const char* module_parent(int module) { return module <= kOProj ? "self_attn" : "mlp"; }

}  // namespace

LoraAdapter load_peft_adapter(const std::string& name, const std::string& dir, const ModelConfig& config, int max_lora_rank) {
  const std::string config_path = dir + "/adapter_config.json";
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(read_text_file(config_path));
  } catch (const nlohmann::json::exception& e) {
    throw_error(ErrorKind::kCorrupt, "{}: not valid JSON: {}", config_path, e.what());
  }
  LoraAdapter a;
  a.name = name;
  a.path = dir;
  if (j.value("peft_type", std::string("LORA")) != "LORA") throw_error(ErrorKind::kUnsupported, "{}: peft_type must be LORA", config_path);
  if (!j.contains("r") || !j["r"].is_number_integer() || j["r"].get<int>() <= 0) throw_error(ErrorKind::kCorrupt, "{}: 'r' must be a positive integer", config_path);
  a.r = j["r"].get<int>();
  if (a.r > max_lora_rank) throw_error(ErrorKind::kInvalidArgument, "{}: rank {} exceeds --max-lora-rank {}", config_path, a.r, max_lora_rank);
  a.alpha = j.contains("lora_alpha") && j["lora_alpha"].is_number() ? j["lora_alpha"].get<float>() : 8.0f;
  bool rslora = j.value("use_rslora", false);
  a.scale = rslora ? a.alpha / std::sqrt(float(a.r)) : a.alpha / a.r;
  if (j.value("bias", std::string("none")) != "none") throw_error(ErrorKind::kUnsupported, "{}: only bias 'none' is supported", config_path);

  SafetensorsFile file(dir + "/adapter_model.safetensors");
  a.layers.resize(config.num_hidden_layers);
  int num_found = 0;
  for (int l = 0; l < config.num_hidden_layers; ++l) {
    for (int m = 0; m < kNumLinearModules; ++m) {
      const std::string prefix = fmt::format("base_model.model.model.layers.{}.{}.{}.", l, module_parent(m), linear_module_name(m));
      const TensorView* ta = file.find(prefix + "lora_A.weight");
      const TensorView* tb = file.find(prefix + "lora_B.weight");
      if (ta == nullptr && tb == nullptr) continue;
      if (ta == nullptr || tb == nullptr) throw_error(ErrorKind::kCorrupt, "{}: {} has only one of lora_A/lora_B", file.path(), prefix);
      auto [n_out, n_in] = module_shape(config, m);
      if (ta->shape != std::vector<int64_t>{a.r, n_in} || tb->shape != std::vector<int64_t>{n_out, a.r}) {
        throw_error(ErrorKind::kCorrupt, "{}: {}lora_A/B shapes do not match r={} and the base model ({}x{})", file.path(), prefix, a.r, n_out, n_in);
      }
      LoraWeights& w = a.layers[l][m];
      w.n_rank = a.r;
      w.a = tensor_to_f32(*ta);
      w.b = tensor_to_f32(*tb);
      if (std::find(a.target_modules.begin(), a.target_modules.end(), linear_module_name(m)) == a.target_modules.end()) {
        a.target_modules.push_back(linear_module_name(m));
      }
      ++num_found;
    }
  }
  if (num_found == 0) throw_error(ErrorKind::kCorrupt, "{}: no LoRA tensors for this model's layers", file.path());
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
