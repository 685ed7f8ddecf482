#include "model/paged_kv_cache.h"

#include <algorithm>

#include "util/error.h"

namespace pagedllm {

size_t PagedKVCache::bytes_per_block(const ModelConfig& c, int block_size) {
  return size_t(2) * c.num_hidden_layers * block_size * c.num_key_value_heads * c.head_dim * sizeof(float);
}

PagedKVCache::PagedKVCache(const ModelConfig& c, int num_blocks, int block_size)
    : num_blocks_(num_blocks), block_size_(block_size), block_floats_(int64_t(block_size) * c.num_key_value_heads * c.head_dim) {
  PAGEDLLM_CHECK(num_blocks > 0 && block_size > 0);
  for (int l = 0; l < c.num_hidden_layers; ++l) {
    keys_.emplace_back(static_cast<size_t>(num_blocks * block_floats_));
    values_.emplace_back(static_cast<size_t>(num_blocks * block_floats_));
  }
}

void PagedKVCache::copy_block(int src, int dst) {
  PAGEDLLM_CHECK(src >= 0 && src < num_blocks_ && dst >= 0 && dst < num_blocks_);
  for (size_t l = 0; l < keys_.size(); ++l) {
    std::copy_n(keys_[l].data() + src * block_floats_, block_floats_, keys_[l].data() + dst * block_floats_);
    std::copy_n(values_[l].data() + src * block_floats_, block_floats_, values_[l].data() + dst * block_floats_);
  }
}

}  // namespace pagedllm
