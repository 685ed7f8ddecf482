#include "engine/tensor_parallel_worker.h"

#include <fmt/format.h>

#include <algorithm>
#include <csignal>
#include <iostream>

#include "dist/communicator.h"
#include "engine/adapter_base.h"
#include "engine/tensor_parallel_messages.h"
#include "kernels/compute_dtype.h"
#include "model/lora_adapters.h"
#include "util/process_memory.h"
#include "util/thread_pool.h"

namespace pagedllm {
namespace {

void serve_rank_zero(const EngineArgs& engine_args, Communicator& comm) {
  EngineArgs args = engine_args;
  // The same base as rank 0 chose for the adapters (its EngineCore logs the decision).
  match_base_to_adapters(args);
  if (args.num_threads > 0) set_num_threads(args.num_threads);
  if (args.dtype == "float32") set_matmul_compute(ComputeDType::kF32);
  LlamaModel model(load_model_weights(args.model, weight_load_options(args)));
  LoraManager loras;
  auto add_lora = [&](const std::string& name, const std::string& dir) {
    loras.add(load_served_adapter(name, dir, model.config(), args.max_lora_rank, model.weights().shard));
    model.set_lora_manager(&loras);
  };
  for (const auto& [name, dir] : args.loras) add_lora(name, dir);
  int32_t num_blocks = 0;  // rank 0 sizes the cache; every rank must hold the same blocks
  comm.broadcast(&num_blocks, sizeof(num_blocks));
  PagedKVCache cache(model.weights().shard_config, num_blocks, args.block_size);
  std::cerr << shard_memory_line(model, cache) << "\n";

  std::vector<float> logits;
  for (;;) {
    WorkerMessage m = receive_worker_message(comm);
    if (m.command == WorkerCommand::kShutdown) return;
    if (m.command == WorkerCommand::kAddLora) {
      add_lora(m.lora_name, m.lora_dir);
      continue;
    }
    for (const auto& [src, dst] : m.step.blocks_to_copy) cache.copy_block(src, dst);
    const ForwardBatch& batch = m.step.batch;
    if (batch.n_tokens == 0) continue;
    logits.resize(size_t(std::max(batch.num_logits, 1)) * model.config().vocab_size);
    model.forward(batch, cache, logits.data());
  }
}

}  // namespace

bool run_tensor_parallel_worker(const EngineArgs& args) {
  if (args.tensor_parallel_size <= 1) return false;
  Communicator& comm = Communicator::world();
  if (comm.is_root()) return false;
  // A worker stops when rank 0 says so: a server on rank 0 drains its requests on SIGTERM/SIGINT and then shuts the
  // workers down, so the signal must not end them first. (mpirun's own SIGTERM handling ends with SIGKILL.)
  std::signal(SIGTERM, SIG_IGN);
  std::signal(SIGINT, SIG_IGN);
  try {
    serve_rank_zero(args, comm);
  } catch (const std::exception& e) {
    comm.abort(1, fmt::format("tensor-parallel worker stopped: {}", e.what()));
  }
  return true;
}

std::string shard_memory_line(const LlamaModel& model, const PagedKVCache& cache) {
  constexpr double kMiB = 1024.0 * 1024.0;
  const TensorParallelShard& shard = model.weights().shard;
  const double kv_bytes = double(PagedKVCache::bytes_per_block(model.weights().shard_config, cache.block_size())) *
                          cache.num_blocks();
  return fmt::format("INFO:     tensor-parallel rank {} of {}: weights {:.1f} MiB, KV cache {:.1f} MiB ({} KV heads), "
                     "resident {:.1f} MiB",
                     shard.rank, shard.size, model.weights().num_bytes() / kMiB, kv_bytes / kMiB,
                     model.weights().shard_config.num_key_value_heads, resident_bytes() / kMiB);
}

}  // namespace pagedllm
