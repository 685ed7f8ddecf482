// Everything that configures an engine, with vLLM's names (EngineArgs) and defaults where they make sense on CPU.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "engine/scheduler_config.h"
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
  // Ranks the weights and KV heads are split over (model/tensor_parallel_shard.h); must equal the MPI world size.
  int tensor_parallel_size = 1;
  int pipeline_parallel_size = 1;  // only 1: pipeline parallelism is not implemented
  // How deep recursive JSON Schemas ($ref) and GBNF rules are expanded: 1..7 (structured/structured_output.h).
  int structured_max_recursion_depth = 3;
};

// The one check of the engine's flags, before anything loads: throws Error(kInvalidArgument) naming the flag of the
// first value out of range. (Limits that depend on the model, such as --max-model-len against the KV cache, are
// checked where they are known: choose_num_kv_blocks and the Scheduler.)
void validate_engine_args(const EngineArgs& args);

// The scheduler's limits from the flags and the resolved context length, with vLLM v1's token budget default.
SchedulerConfig scheduler_config(const EngineArgs& args, int max_model_len);

// How the engine's weights are loaded: dtype, dummy weights, and quantization while loading (linear layers of
// the blocks; the LM head too with quantize_lm_head). Throws Error(kInvalidArgument) for an unknown format.
WeightLoadOptions weight_load_options(const EngineArgs& args);

// Checks --tensor-parallel-size against the processes the MPI launcher started (Communicator::world) and refuses
// --pipeline-parallel-size > 1. Throws Error(kInvalidArgument) naming both numbers.
void check_parallel_sizes(const EngineArgs& args);
// This process's shard of the weights: {rank, size} of the world under tensor parallelism, {0, 1} otherwise.
TensorParallelShard tensor_parallel_shard(const EngineArgs& args);

}  // namespace pagedllm
