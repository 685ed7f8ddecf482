#include "model/tensor_parallel_shard.h"

#include "util/error.h"

namespace pagedllm {

ModelConfig shard_model_config(const ModelConfig& config, int tp_size) {
  if (tp_size < 1) throw_error(ErrorKind::kInvalidArgument, "--tensor-parallel-size must be at least 1, got {}", tp_size);
  if (tp_size == 1) return config;
  auto require_even = [&](int count, const char* what) {
    if (count % tp_size != 0) {
      throw_error(ErrorKind::kInvalidArgument,
                  "--tensor-parallel-size {} does not divide the model's {} ({}): each rank must hold an equal share",
                  tp_size, what, count);
    }
  };
  require_even(config.num_attention_heads, "num_attention_heads");
  require_even(config.intermediate_size, "intermediate_size");
  const int kv = config.num_key_value_heads;
  if (kv >= tp_size) {
    require_even(kv, "num_key_value_heads");
  } else if (tp_size % kv != 0) {
    throw_error(ErrorKind::kInvalidArgument,
                "--tensor-parallel-size {} is not a multiple of the model's num_key_value_heads ({}): with fewer KV "
                "heads than ranks each KV head is replicated on an equal number of ranks",
                tp_size, kv);
  }
  ModelConfig local = config;
  local.num_attention_heads = config.num_attention_heads / tp_size;
  local.num_key_value_heads = kv >= tp_size ? kv / tp_size : 1;
  local.intermediate_size = config.intermediate_size / tp_size;
  return local;
}

MatrixSlice linear_module_slice(const ModelConfig& config, int module, const TensorParallelShard& shard) {
  const LinearModuleShape shape = linear_module_shape(config, module);
  MatrixSlice s;
  s.splits_input = is_row_parallel(module);
  s.count = s.splits_input ? shape.n_in : shape.n_out;
  if (!shard.is_sharded()) return s;
  const ModelConfig local = shard_model_config(config, shard.size);
  const int64_t head_dim = config.head_dim;
  switch (module) {
    case kQProj:
    case kOProj:
      s.count = local.num_attention_heads * head_dim;
      s.begin = shard.rank * s.count;
      break;
    case kKProj:
    case kVProj: {
      // With fewer KV heads than ranks, rank r's q heads all read KV head r·kv/size (integer division).
      const int64_t first_head = int64_t(shard.rank) * config.num_key_value_heads / shard.size;
      s.count = local.num_key_value_heads * head_dim;
      s.begin = first_head * head_dim;
      break;
    }
    default:  // gate, up (rows) and down (columns): a band of the MLP
      s.count = local.intermediate_size;
      s.begin = shard.rank * s.count;
      break;
  }
  return s;
}

int64_t padded_vocab_rows(int64_t vocab_size, int tp_size) { return (vocab_size + tp_size - 1) / tp_size; }

MatrixSlice vocab_slice(int64_t vocab_size, const TensorParallelShard& shard) {
  const int64_t rows = padded_vocab_rows(vocab_size, shard.size);
  MatrixSlice s;
  s.begin = std::min<int64_t>(vocab_size, shard.rank * rows);
  s.count = std::min<int64_t>(vocab_size, s.begin + rows) - s.begin;
  return s;
}

}  // namespace pagedllm
