// How many KV blocks the engine allocates: --num-kv-blocks, else --kv-cache-memory bytes, else a share of the
// RAM available after loading the weights. Start-up fails, naming the largest --max-model-len that fits, when
// not even one request of max_model_len tokens fits.
#pragma once

#include "engine/engine_args.h"
#include "formats/model_config.h"

namespace pagedllm {

int choose_num_kv_blocks(const EngineArgs& args, const ModelConfig& config, int max_model_len);

// MemAvailable from /proc/meminfo in bytes (0 if unknown).
int64_t available_memory_bytes();

}  // namespace pagedllm
