#include "engine/kv_cache_sizing.h"

#include <gtest/gtest.h>

#include "model/paged_kv_cache.h"
#include "util/error.h"

namespace pagedllm {
namespace {

// 2 layers × 2 kv heads × head_dim 16: a token holds 2 · 2 · 2 · 16 = 128 elements of keys and values.
ModelConfig small_config(KVCacheDType dtype) {
  ModelConfig c;
  c.num_hidden_layers = 2;
  c.num_attention_heads = 4;
  c.num_key_value_heads = 2;
  c.head_dim = 16;
  c.hidden_size = 64;
  c.kv_cache_dtype = dtype;
  return c;
}

TEST(KVCacheSizing, BytesPerBlockFollowTheElementSize) {
  EXPECT_EQ(PagedKVCache::bytes_per_block(small_config(KVCacheDType::kFloat32), 16), 128u * 16 * 4);
  EXPECT_EQ(PagedKVCache::bytes_per_block(small_config(KVCacheDType::kBFloat16), 16), 128u * 16 * 2);
  EXPECT_EQ(PagedKVCache::bytes_per_block(small_config(KVCacheDType::kFp8E4M3), 16), 128u * 16);
  EXPECT_EQ(PagedKVCache::bytes_per_block(small_config(KVCacheDType::kFp8E5M2), 16), 128u * 16);
  // The explicit dtype wins over the config's.
  EXPECT_EQ(PagedKVCache::bytes_per_block(small_config(KVCacheDType::kFloat32), 16, KVCacheDType::kFp8E4M3), 2048u);
}

// The same --kv-cache-memory holds twice the blocks in bf16 and four times in fp8: 1,000,000 bytes over blocks of
// 8192, 4096 and 2048 bytes.
TEST(KVCacheSizing, SixteenBitDoublesAndFp8QuadruplesTheBlocksOfAMemoryBudget) {
  EngineArgs args;
  args.block_size = 16;
  args.kv_cache_memory = 1'000'000;
  EXPECT_EQ(choose_num_kv_blocks(args, small_config(KVCacheDType::kFloat32), 64), 122);
  EXPECT_EQ(choose_num_kv_blocks(args, small_config(KVCacheDType::kBFloat16), 64), 244);
  EXPECT_EQ(choose_num_kv_blocks(args, small_config(KVCacheDType::kFp8E4M3), 64), 488);
  EXPECT_EQ(choose_num_kv_blocks(args, small_config(KVCacheDType::kFp8E5M2), 64), 488);
}

// A budget too small for one request in fp32 can be enough in fp8: 1952 tokens of max_model_len need 122 blocks.
TEST(KVCacheSizing, Fp8FitsARequestThatFp32CannotHold) {
  EngineArgs args;
  args.block_size = 16;
  args.kv_cache_memory = 500'000;  // 61 fp32 blocks, 244 fp8 blocks
  EXPECT_THROW(choose_num_kv_blocks(args, small_config(KVCacheDType::kFloat32), 1952), Error);
  EXPECT_EQ(choose_num_kv_blocks(args, small_config(KVCacheDType::kFp8E4M3), 1952), 244);
}

}  // namespace
}  // namespace pagedllm
