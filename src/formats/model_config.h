// The parts of a Hugging Face config.json that the decoder families we run (Llama, Mistral, Qwen2) need.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "kernels/kv_cache_dtype.h"

namespace pagedllm {

struct RopeScaling {
  std::string rope_type = "default";  // "default", "linear", "llama3"
  double factor = 1.0;
  double low_freq_factor = 1.0;
  double high_freq_factor = 4.0;
  int original_max_position_embeddings = 8192;
};

struct ModelConfig {
  std::string architecture;  // e.g. "LlamaForCausalLM"
  std::string model_type;
  int vocab_size = 0;
  int hidden_size = 0;
  int intermediate_size = 0;
  int num_hidden_layers = 0;
  int num_attention_heads = 0;
  int num_key_value_heads = 0;
  int head_dim = 0;
  int max_position_embeddings = 2048;
  double rms_norm_eps = 1e-6;
  double rope_theta = 10000.0;
  RopeScaling rope_scaling;
  bool tie_word_embeddings = false;
  // Which linear layers carry a bias, as transformers builds them: Qwen2 always has q/k/v biases; Llama's
  // `attention_bias` adds them to q/k/v and o, its `mlp_bias` to gate/up/down. Mistral has none.
  bool attention_bias = false;  // q/k/v
  bool o_proj_bias = false;
  bool mlp_bias = false;
  std::optional<int> bos_token_id;
  std::vector<int> eos_token_ids;
  std::string torch_dtype = "float32";
  // Not from config.json: the KV cache element type load_model_weights resolved from --kv-cache-dtype
  // (WeightLoadOptions::kv_cache_dtype); PagedKVCache and the KV sizing read it from here.
  KVCacheDType kv_cache_dtype = KVCacheDType::kFloat32;

  // Per-pair inverse frequencies of the rotary embedding (head_dim / 2 values), scaling applied.
  std::vector<float> rope_inv_freq() const;
  // Parameters of the transformer (embeddings and LM head counted once when tied).
  int64_t num_parameters() const;
};

// Reads DIR/config.json. Throws Error(kNotFound / kCorrupt / kUnsupported) naming the file and the key.
ModelConfig load_model_config(const std::string& model_dir);
ModelConfig parse_model_config(const std::string& json_text, const std::string& source_name);

}  // namespace pagedllm
