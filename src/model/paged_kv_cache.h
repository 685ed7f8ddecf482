// The memory of the paged KV cache: for every layer, a key and a value tensor of shape
// (num_blocks, block_size, n_kv_heads, head_dim) fp32. Which request owns which block is decided by the
// KVCacheManager (src/kvcache); this class only holds the numbers and copies blocks for copy-on-write.
// The memory starts zeroed and is only made resident as it is touched.
#pragma once

#include <cstdint>
#include <vector>

#include "formats/model_config.h"
#include "util/zeroed_buffer.h"

namespace pagedllm {

class PagedKVCache {
 public:
  PagedKVCache(const ModelConfig& config, int num_blocks, int block_size);

  // Bytes one block takes across all layers (keys and values): the unit of the KV memory budget.
  static size_t bytes_per_block(const ModelConfig& config, int block_size);

  float* key_cache(int layer) { return keys_[layer].data(); }
  float* value_cache(int layer) { return values_[layer].data(); }
  int num_blocks() const { return num_blocks_; }
  int block_size() const { return block_size_; }

  // Copies the contents of block src into block dst in every layer (copy-on-write of a shared partial block).
  void copy_block(int src, int dst);

 private:
  int num_blocks_;
  int block_size_;
  int64_t block_floats_;  // block_size * n_kv_heads * head_dim
  std::vector<ZeroedFloats> keys_;    // pages become resident as blocks are first written
  std::vector<ZeroedFloats> values_;
};

}  // namespace pagedllm
