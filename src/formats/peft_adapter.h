// LoRA adapters in Hugging Face PEFT's format (formats.md §4), written by `finetune` and read by `serve --lora`:
//   adapter_config.json        the serialized LoraConfig (peft_type "LORA", r, lora_alpha, target_modules, ...)
//   adapter_model.safetensors  base_model.model.model.layers.{L}.{self_attn|mlp}.{module}.lora_A.weight (r, in)
//                              and ...lora_B.weight (out, r), fp32 (F16/BF16 accepted on load)
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace pagedllm {

struct LoraConfig {
  int64_t r = 64;
  double lora_alpha = 16;
  double lora_dropout = 0.05;
  std::vector<std::string> target_modules;  // leaf names: q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj
  std::string base_model_name_or_path;
  bool use_rslora = false;  // scale alpha / sqrt(r) instead of alpha / r
  // pagedllm's own keys (PEFT ignores unknown keys): the weight format of the base the adapter was trained against
  // ("none", "nf4", "fp4", "int4"; empty when unknown, e.g. an adapter made elsewhere), so `merge` rebuilds the same
  // (dequantized) base. Written as "pagedllm_base_quantization" and "pagedllm_base_double_quant".
  std::string base_quantization;
  bool base_double_quant = false;

  double scale() const;
};

// One adapted linear layer: module is the path inside the decoder layer, e.g. "self_attn.q_proj" or "mlp.down_proj".
struct LoraModuleWeights {
  int64_t layer = 0;
  std::string module;
  int64_t rank = 0;
  int64_t n_in = 0;
  int64_t n_out = 0;
  std::vector<float> A;  // (rank, n_in)
  std::vector<float> B;  // (n_out, rank)
};

struct PeftAdapter {
  LoraConfig config;
  std::vector<LoraModuleWeights> modules;
};

// PEFT's tensor key of one LoRA matrix: which = 'A' or 'B'.
std::string peft_lora_key(int64_t layer, const std::string& module, char which);

// The adapter_config.json object with every key PEFT's LoraConfig writes.
nlohmann::json adapter_config_json(const LoraConfig& config);

// Reads the fields pagedllm uses; throws Error(kCorrupt) naming `path` for a missing/ill-typed field or a peft_type
// other than LORA, Error(kUnsupported) for features we do not apply (DoRA, bias other than none, fan_in_fan_out,
// per-module rank/alpha patterns).
LoraConfig parse_adapter_config(const nlohmann::json& json, const std::string& path);

// Writes both files into `dir` (created if missing), each atomically. Throws Error(kInvalidArgument) if the adapter
// has no modules or a module's A/B sizes disagree with its dims: an adapter without its LoRA tensors is never
// written.
void save_peft_adapter(const std::string& dir, const PeftAdapter& adapter);

// Reads an adapter written by pagedllm or by PEFT. Modules are sorted by (layer, module). Throws Error(kNotFound)
// for a missing file, Error(kCorrupt) for an A without its B (or the reverse), shapes that disagree with r, or no
// LoRA tensors at all, Error(kUnsupported) naming any other tensor key (embedding LoRA, modules_to_save).
PeftAdapter load_peft_adapter(const std::string& dir);

}  // namespace pagedllm
