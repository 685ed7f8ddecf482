// Everything that configures an engine, with vLLM's names (EngineArgs) and defaults where they make sense on CPU.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "model/model_weights.h"

namespace pagedllm {

struct EngineArgs {
  std::string model;                 // Hugging Face model folder
  std::string tokenizer;             // defaults to `model`
  std::string load_format = "auto";  // "auto" (safetensors) or "dummy" (random weights)
  std::string dtype = "auto";        // weight storage for dense layers: auto, float32, bfloat16, float16
  std::string quantization;          // "", nf4, fp4, int4, int8, q8_0
  bool double_quant = true;          // for the 4-bit formats
  int quant_block_size = 64;         // weights per absmax of the 4-bit formats (bitsandbytes' blocksize)
  bool quantize_lm_head = false;
  int block_size = 16;
  std::string kv_cache_dtype = "auto";  // auto, float32, bfloat16, fp8 (= fp8_e4m3), fp8_e4m3, fp8_e5m2
  int64_t kv_cache_memory = 0;       // bytes for the KV cache; 0 = a share of available RAM
  int num_kv_blocks = 0;             // overrides kv_cache_memory when > 0 (tests)
  int max_model_len = 0;             // 0 = the model's max_position_embeddings
  int max_num_seqs = 256;
  int max_num_batched_tokens = 0;    // 0 = max(2048, max_model_len) without chunked prefill, 2048 with
  // Both on by default, as in vLLM v1: prefix caching changes no output (a cached block holds exactly the keys and
  // values its tokens would produce again) and chunked prefill keeps decode steps short beside long prompts.
  bool enable_chunked_prefill = true;
  bool enable_prefix_caching = true;
  int max_queued_requests = 0;       // 0 = unlimited
  uint64_t seed = 0;                 // seeds unseeded requests and dummy weights
  int num_threads = 0;               // 0 = all cores
  std::vector<std::pair<std::string, std::string>> loras;  // (name, PEFT folder)
  int max_loras = 4;
  int max_lora_rank = 64;
};

// How the engine's weights are loaded: dtype, dummy weights, and quantization while loading (linear layers of
// the blocks; the LM head too with quantize_lm_head). Throws Error(kInvalidArgument) for an unknown format.
WeightLoadOptions weight_load_options(const EngineArgs& args);

}  // namespace pagedllm
