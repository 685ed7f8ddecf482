// The memory of the paged KV cache: for every layer, a key and a value tensor of shape
// (num_blocks, block_size, n_kv_heads, head_dim) in the cache's element type (fp32, bf16 or fp8; see
// kernels/kv_cache_dtype.h). Which request owns which block is decided by the KVCacheManager (src/kvcache); this
// class only holds the numbers and copies blocks for copy-on-write. The memory starts zeroed and is only made
// resident as it is touched.
//
// fp8 scales: one k_scale and one v_scale per layer (per tensor, as vLLM), fixed at 1.0, vLLM's default for
// checkpoints that carry no scales. That is a choice, not a calibration: Llama keys and values are O(1)-O(10),
// well inside E4M3's ±448 and far above its 2⁻⁹ resolution floor, and a fixed scale keeps every output
// independent of which requests share a batch (a scale measured at run time would not be). Values beyond the
// range saturate (kernels/fp8.h).
#pragma once

#include <cstdint>
#include <vector>

#include "formats/model_config.h"
#include "kernels/attention.h"
#include "kernels/kv_cache_dtype.h"
#include "util/zeroed_buffer.h"

namespace pagedllm {

class PagedKVCache {
 public:
  PagedKVCache(const ModelConfig& config, int num_blocks, int block_size, KVCacheDType dtype);
  // With config.kv_cache_dtype (what the loader resolved from --kv-cache-dtype).
  PagedKVCache(const ModelConfig& config, int num_blocks, int block_size)
      : PagedKVCache(config, num_blocks, block_size, config.kv_cache_dtype) {}

  // Bytes one block takes across all layers (keys and values): the unit of the KV memory budget.
  static size_t bytes_per_block(const ModelConfig& config, int block_size, KVCacheDType dtype);
  static size_t bytes_per_block(const ModelConfig& config, int block_size) {
    return bytes_per_block(config, block_size, config.kv_cache_dtype);
  }

  // Layer `layer`'s caches and scales, for reshape_and_cache and paged_attention.
  KVCacheLayer layer(int layer);
  KVCacheDType dtype() const { return dtype_; }
  int num_blocks() const { return num_blocks_; }
  int block_size() const { return block_size_; }

  // Copies the contents of block src into block dst in every layer (copy-on-write of a shared partial block).
  void copy_block(int src, int dst);

 private:
  int num_blocks_;
  int block_size_;
  KVCacheDType dtype_;
  int64_t block_bytes_;  // block_size * n_kv_heads * head_dim * element size: one block of one tensor
  // Raw zeroed mappings sized in 4-byte units (pages become resident as blocks are first written); they hold
  // elements of dtype_, whatever ZeroedFloats calls them.
  std::vector<ZeroedFloats> keys_;
  std::vector<ZeroedFloats> values_;
  std::vector<float> k_scales_;  // (num_layers)
  std::vector<float> v_scales_;  // (num_layers)
};

}  // namespace pagedllm
