#include "model/paged_kv_cache.h"

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "kernels/kv_convert.h"

namespace pagedllm {
namespace {

// 3 layers × 2 kv heads × head_dim 4: a slot holds 8 elements per tensor.
ModelConfig small_config() {
  ModelConfig c;
  c.num_hidden_layers = 3;
  c.num_attention_heads = 2;
  c.num_key_value_heads = 2;
  c.head_dim = 4;
  c.hidden_size = 8;
  return c;
}

constexpr KVCacheDType kAllDTypes[] = {KVCacheDType::kFloat32, KVCacheDType::kBFloat16, KVCacheDType::kFp8E4M3,
                                       KVCacheDType::kFp8E5M2};

// The fp32 values of slot `slot` of one layer's key (or value) tensor.
std::vector<float> read_slot(const void* tensor, KVCacheDType dtype, int slot, float scale) {
  std::vector<float> out(8);
  kv_to_f32(static_cast<const char*>(tensor) + slot * 8 * kv_cache_dtype_size(dtype), out.data(), 8, dtype, scale);
  return out;
}

TEST(PagedKVCache, LayersCarryTheDTypeAndUnitFp8Scales) {
  for (KVCacheDType dtype : kAllDTypes) {
    PagedKVCache cache(small_config(), 4, 2, dtype);
    EXPECT_EQ(cache.dtype(), dtype);
    for (int l = 0; l < 3; ++l) {
      KVCacheLayer layer = cache.layer(l);
      EXPECT_EQ(layer.dtype, dtype);
      EXPECT_EQ(layer.k_scale, 1.0f);
      EXPECT_EQ(layer.v_scale, 1.0f);
      EXPECT_NE(layer.key_cache, layer.value_cache);
    }
  }
  ModelConfig c = small_config();
  c.kv_cache_dtype = KVCacheDType::kFp8E5M2;
  EXPECT_EQ(PagedKVCache(c, 4, 2).dtype(), KVCacheDType::kFp8E5M2);  // the config's resolved dtype
}

// Copy-on-write copies a block's stored codes in every layer, keys and values, and touches no other block.
TEST(PagedKVCache, CopyBlockCopiesEveryLayerInEveryDType) {
  const int block_size = 2;
  for (KVCacheDType dtype : kAllDTypes) {
    SCOPED_TRACE(kv_cache_dtype_name(dtype));
    PagedKVCache cache(small_config(), 4, block_size, dtype);
    // Block 1 (slots 2, 3) gets distinct values per layer; then block 1 is copied to block 3.
    for (int l = 0; l < 3; ++l) {
      std::vector<float> k(2 * 8), v(2 * 8);
      for (int i = 0; i < 16; ++i) {
        k[i] = 0.5f * (i + 1) + l;
        v[i] = -0.5f * (i + 1) - l;
      }
      const int64_t slots[2] = {2, 3};
      reshape_and_cache(k.data(), v.data(), cache.layer(l), slots, 2, 2, 4, block_size);
    }
    cache.copy_block(1, 3);
    for (int l = 0; l < 3; ++l) {
      KVCacheLayer layer = cache.layer(l);
      for (int offset = 0; offset < block_size; ++offset) {
        EXPECT_EQ(read_slot(layer.key_cache, dtype, 3 * block_size + offset, 1.0f),
                  read_slot(layer.key_cache, dtype, 1 * block_size + offset, 1.0f));
        EXPECT_EQ(read_slot(layer.value_cache, dtype, 3 * block_size + offset, 1.0f),
                  read_slot(layer.value_cache, dtype, 1 * block_size + offset, 1.0f));
        // Block 0 and 2 stay zero.
        EXPECT_EQ(read_slot(layer.key_cache, dtype, 0 * block_size + offset, 1.0f), std::vector<float>(8, 0.0f));
        EXPECT_EQ(read_slot(layer.value_cache, dtype, 2 * block_size + offset, 1.0f), std::vector<float>(8, 0.0f));
      }
      // What was written is what reads back, rounded to the dtype: slot 2's first key is 0.5 + l (exact in all).
      EXPECT_EQ(read_slot(layer.key_cache, dtype, 3 * block_size, 1.0f)[0], 0.5f + l);
    }
  }
}

}  // namespace
}  // namespace pagedllm
