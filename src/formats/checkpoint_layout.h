// The Hugging Face layout of a Llama-family checkpoint (Llama, Mistral, Qwen2), spelled in this one place: the seven
// linear modules of a decoder layer in one fixed order, their shapes and biases as config.json implies them, the
// tensor names of a model folder, which tensor holds the LM head, and PEFT's adapter keys. Loading, serving,
// training, quantize, merge and the adapter reader/writer all go through it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "formats/model_config.h"

namespace pagedllm {

// The linear modules of a decoder layer, in checkpoint order (attention, then MLP). Arrays indexed by LinearModule
// (weights, biases, adapters) use this order everywhere.
enum LinearModule : int { kQProj, kKProj, kVProj, kOProj, kGateProj, kUpProj, kDownProj };
inline constexpr int kNumLinearModules = 7;

struct LinearModuleNames {
  const char* leaf;  // "q_proj": PEFT's target_modules entry
  const char* path;  // "self_attn.q_proj": the path inside the decoder layer
};
const LinearModuleNames& linear_module_names(int module);

// The module a PEFT name refers to, by its path ("self_attn.q_proj") or leaf ("q_proj"); -1 for none.
int find_linear_module(std::string_view name);

struct LinearModuleShape {
  int64_t n_out = 0;
  int64_t n_in = 0;
  bool has_bias = false;  // as transformers builds the family (ModelConfig's attention_bias/o_proj_bias/mlp_bias)
};
LinearModuleShape linear_module_shape(const ModelConfig& config, int module);

namespace tensor_names {
inline constexpr const char* kEmbedTokens = "model.embed_tokens.weight";
inline constexpr const char* kFinalNorm = "model.norm.weight";
inline constexpr const char* kLmHead = "lm_head.weight";
std::string input_layernorm(int64_t layer);
std::string post_attention_layernorm(int64_t layer);
std::string linear_weight(int64_t layer, int module);
std::string linear_bias(int64_t layer, int module);
// PEFT's key of an adapter matrix: which is 'A' (rank, n_in) or 'B' (n_out, rank).
std::string peft_lora(int64_t layer, int module, char which);
}  // namespace tensor_names

// Whether the LM head is the embedding matrix. The config decides, as in transformers: a tied checkpoint may still
// carry a copy of lm_head.weight, which is then ignored.
inline bool is_lm_head_tied(const ModelConfig& config) { return config.tie_word_embeddings; }

// The non-weight files of a model folder that a folder derived from it (quantized, merged) copies so that it loads
// and tokenizes as the original does.
inline constexpr const char* kModelFolderSideFiles[] = {
    "tokenizer.json",         "tokenizer.model",     "tokenizer_config.json", "special_tokens_map.json",
    "generation_config.json", "chat_template.jinja", "vocab.json",            "merges.txt"};

}  // namespace pagedllm
