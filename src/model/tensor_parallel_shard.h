// Megatron-style tensor parallelism over the ranks of a Communicator: which slice of every weight a rank holds.
//
//   q/k/v, gate/up   column-parallel: a rank holds a band of output rows (whole heads of q/k/v, a band of the MLP)
//                    and computes its own heads / MLP columns with no communication;
//   o_proj, down     row-parallel: a rank holds the matching band of input columns, its product is a partial sum
//                    that an all-reduce over the ranks completes (their biases are added once, by rank 0);
//   LM head          split by vocabulary rows (padded to a multiple of the rank count), logits all-gathered;
//   embeddings, norms replicated.
// KV heads are split like q heads when there are at least as many as ranks; with fewer, each rank holds the one KV
// head its q heads read (vLLM's replication), so the KV heads must divide the ranks evenly.
#pragma once

#include <cstdint>

#include "formats/checkpoint_layout.h"
#include "formats/model_config.h"

namespace pagedllm {

struct TensorParallelShard {
  int rank = 0;
  int size = 1;
  bool is_sharded() const { return size > 1; }
};

// The model as one rank sees it: num_attention_heads, num_key_value_heads and intermediate_size of its slice,
// everything else unchanged (the input of the KV cache and the attention kernels). Throws Error(kInvalidArgument)
// naming the count that does not split evenly over `tp_size` ranks.
ModelConfig shard_model_config(const ModelConfig& config, int tp_size);

// A band [begin, begin + count) of a matrix's rows (splits_input false) or columns (splits_input true).
struct MatrixSlice {
  bool splits_input = false;
  int64_t begin = 0;
  int64_t count = 0;
};

inline bool is_row_parallel(int module) { return module == kOProj || module == kDownProj; }
// The slice of linear module `module` (LinearModule) rank `shard.rank` holds; the whole matrix without sharding.
MatrixSlice linear_module_slice(const ModelConfig& config, int module, const TensorParallelShard& shard);
// Rows of the LM head per rank: the vocabulary rounded up to a multiple of the ranks, divided by them.
int64_t padded_vocab_rows(int64_t vocab_size, int tp_size);
// This rank's vocabulary rows; the last ranks may hold fewer than padded_vocab_rows (possibly none).
MatrixSlice vocab_slice(int64_t vocab_size, const TensorParallelShard& shard);

}  // namespace pagedllm
