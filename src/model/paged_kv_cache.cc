#include "model/paged_kv_cache.h"

#include <cstring>

#include "util/error.h"

namespace pagedllm {

size_t PagedKVCache::bytes_per_block(const ModelConfig& c, int block_size, KVCacheDType dtype) {
  return size_t(2) * c.num_hidden_layers * block_size * c.num_key_value_heads * c.head_dim * kv_cache_dtype_size(dtype);
}

PagedKVCache::PagedKVCache(const ModelConfig& c, int num_blocks, int block_size, KVCacheDType dtype)
    : num_blocks_(num_blocks),
      block_size_(block_size),
      dtype_(dtype),
      block_bytes_(int64_t(block_size) * c.num_key_value_heads * c.head_dim * int64_t(kv_cache_dtype_size(dtype))) {
  PAGEDLLM_CHECK(num_blocks > 0 && block_size > 0);
  const size_t floats = static_cast<size_t>((num_blocks * block_bytes_ + 3) / 4);
  for (int l = 0; l < c.num_hidden_layers; ++l) {
    keys_.emplace_back(floats);
    values_.emplace_back(floats);
  }
  k_scales_.assign(c.num_hidden_layers, 1.0f);
  v_scales_.assign(c.num_hidden_layers, 1.0f);
}

KVCacheLayer PagedKVCache::layer(int l) {
  return {keys_[l].data(), values_[l].data(), dtype_, k_scales_[l], v_scales_[l]};
}

void PagedKVCache::copy_block(int src, int dst) {
  PAGEDLLM_CHECK(src >= 0 && src < num_blocks_ && dst >= 0 && dst < num_blocks_);
  for (size_t l = 0; l < keys_.size(); ++l) {
    auto* k = reinterpret_cast<char*>(keys_[l].data());
    auto* v = reinterpret_cast<char*>(values_[l].data());
    std::memmove(k + dst * block_bytes_, k + src * block_bytes_, block_bytes_);
    std::memmove(v + dst * block_bytes_, v + src * block_bytes_, block_bytes_);
  }
}

}  // namespace pagedllm
