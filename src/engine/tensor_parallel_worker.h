// A worker rank (> 0) of a tensor-parallel run: it holds its slice of the weights and its KV heads and replays
// what rank 0's engine sends (tensor_parallel_messages.h): block copies and forwards, joining the model's
// all-reduces and logits gather, until rank 0 shuts it down. It has no tokenizer, scheduler or sampler.
#pragma once

#include <string>

#include "engine/engine_args.h"
#include "model/llama_model.h"
#include "model/paged_kv_cache.h"

namespace pagedllm {

// On a worker rank of a run with --tensor-parallel-size > 1: builds the rank's model, adapters and KV cache as
// rank 0's EngineCore does, serves rank 0 until it shuts down, and returns true. Returns false at once on rank 0 or
// without tensor parallelism (the caller then runs the command itself). Any error ends the whole run through
// Communicator::abort, so that no rank waits for one that gave up.
bool run_tensor_parallel_worker(const EngineArgs& args);

// One log line with this rank's weight and KV bytes and resident memory (the per-rank memory of the README).
std::string shard_memory_line(const LlamaModel& model, const PagedKVCache& cache);

}  // namespace pagedllm
