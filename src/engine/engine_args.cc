#include "engine/engine_args.h"

#include <algorithm>

#include "dist/communicator.h"
#include "util/error.h"

namespace pagedllm {

void validate_engine_args(const EngineArgs& args) {
  if (args.load_format != "auto" && args.load_format != "dummy" && args.load_format != "safetensors") {
    throw_error(ErrorKind::kInvalidArgument, "--load-format must be auto, safetensors or dummy, got '{}'", args.load_format);
  }
  if (args.block_size < 1 || args.block_size > 1024) {
    throw_error(ErrorKind::kInvalidArgument, "--block-size must be in [1, 1024], got {}", args.block_size);
  }
  if (args.max_num_seqs < 1) {
    throw_error(ErrorKind::kInvalidArgument, "--max-num-seqs must be at least 1, got {}", args.max_num_seqs);
  }
  const std::pair<const char*, int64_t> non_negative[] = {
      {"--max-model-len", args.max_model_len},       {"--max-num-batched-tokens", args.max_num_batched_tokens},
      {"--num-kv-blocks", args.num_kv_blocks},       {"--kv-cache-memory", args.kv_cache_memory},
      {"--max-queued-requests", args.max_queued_requests}, {"--num-threads", args.num_threads}};
  for (const auto& [flag, value] : non_negative) {
    if (value < 0) throw_error(ErrorKind::kInvalidArgument, "{} must not be negative, got {}", flag, value);
  }
  if (args.loras.size() > size_t(std::max(args.max_loras, 0))) {
    throw_error(ErrorKind::kInvalidArgument, "more LoRA adapters than --max-loras={}", args.max_loras);
  }
}

SchedulerConfig scheduler_config(const EngineArgs& args, int max_model_len) {
  SchedulerConfig sc;
  sc.max_num_seqs = args.max_num_seqs;
  sc.max_model_len = max_model_len;
  sc.enable_chunked_prefill = args.enable_chunked_prefill;
  sc.max_num_batched_tokens = args.max_num_batched_tokens > 0 ? args.max_num_batched_tokens
                              : args.enable_chunked_prefill    ? 2048
                                                               : std::max(2048, max_model_len);
  sc.block_size = args.block_size;
  sc.enable_prefix_caching = args.enable_prefix_caching;
  return sc;
}

WeightLoadOptions weight_load_options(const EngineArgs& args) {
  WeightLoadOptions load;
  load.dtype = args.dtype;
  load.dummy = args.load_format == "dummy";
  load.dummy_seed = args.seed;
  load.kv_cache_dtype = args.kv_cache_dtype;
  load.transform_linear = make_quantize_transform(args.quantization, args.double_quant, args.quant_block_size);
  if (args.quantize_lm_head) load.transform_lm_head = load.transform_linear;
  load.shard = tensor_parallel_shard(args);
  load.bf16_panels = true;  // serving: the batch's products read BF16 weights without repacking them
  return load;
}

void check_parallel_sizes(const EngineArgs& args) {
  if (args.pipeline_parallel_size != 1) {
    throw_error(ErrorKind::kInvalidArgument,
                "--pipeline-parallel-size {}: pipeline parallelism is not implemented; only 1 is accepted (use "
                "--tensor-parallel-size to split a model over processes)",
                args.pipeline_parallel_size);
  }
  const int tp = args.tensor_parallel_size;
  if (tp < 1) throw_error(ErrorKind::kInvalidArgument, "--tensor-parallel-size must be at least 1, got {}", tp);
  const int world = Communicator::world().size();
  if (tp == world) return;
  if (world == 1) {
    throw_error(ErrorKind::kInvalidArgument,
                "--tensor-parallel-size {} needs {} processes, but this is 1: start it under `mpirun -np {} pagedllm ...`",
                tp, tp, tp);
  }
  throw_error(ErrorKind::kInvalidArgument,
              "--tensor-parallel-size is {} but mpirun started {} processes; they must be equal", tp, world);
}

TensorParallelShard tensor_parallel_shard(const EngineArgs& args) {
  if (args.tensor_parallel_size <= 1) return {};
  const Communicator& world = Communicator::world();
  return {world.rank(), world.size()};
}

}  // namespace pagedllm
