#include "kvcache/kv_cache_manager.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <numeric>

#include "util/error.h"

namespace pagedllm {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::Pair;

std::vector<int32_t> iota_tokens(int n, int32_t first) {
  std::vector<int32_t> tokens(n);
  std::iota(tokens.begin(), tokens.end(), first);
  return tokens;
}

TEST(KVCacheManager, AllocateSlotsGrowsTableOneBlockPerBlockSizeTokens) {
  KVCacheManager kv(10, 4, false);
  ASSERT_TRUE(kv.allocate_slots("a", 0, 10));
  EXPECT_THAT(kv.block_table("a"), ElementsAre(0, 1, 2));
  ASSERT_TRUE(kv.allocate_slots("a", 10, 2));  // 12 tokens still fit 3 blocks
  EXPECT_THAT(kv.block_table("a"), ElementsAre(0, 1, 2));
  ASSERT_TRUE(kv.allocate_slots("b", 0, 1));
  ASSERT_TRUE(kv.allocate_slots("a", 12, 1));
  EXPECT_THAT(kv.block_table("a"), ElementsAre(0, 1, 2, 4));
  EXPECT_THAT(kv.block_table("b"), ElementsAre(3));
  EXPECT_EQ(kv.num_free_blocks(), 5);
  kv.check_invariants();
}

TEST(KVCacheManager, AllocationFailureChangesNothing) {
  KVCacheManager kv(4, 4, false);
  ASSERT_TRUE(kv.allocate_slots("a", 0, 12));
  EXPECT_FALSE(kv.allocate_slots("b", 0, 8));
  EXPECT_FALSE(kv.has_request("b"));
  EXPECT_FALSE(kv.allocate_slots("a", 12, 5));
  EXPECT_THAT(kv.block_table("a"), ElementsAre(0, 1, 2));
  EXPECT_EQ(kv.num_free_blocks(), 1);
  kv.check_invariants();
}

TEST(KVCacheManager, FreeReturnsTailBlockFirst) {
  KVCacheManager kv(4, 4, false);
  ASSERT_TRUE(kv.allocate_slots("a", 0, 12));
  kv.free("a");
  EXPECT_THAT(kv.block_pool().free_block_ids(), ElementsAre(3, 2, 1, 0));
  EXPECT_THAT(kv.block_table("a"), IsEmpty());
  kv.free("a");  // unknown ids are ignored
  kv.check_invariants();
}

// Runs one request over `tokens` to completion of its KV (all tokens computed), then frees it.
void compute_and_free(KVCacheManager& kv, const std::string& id, const std::vector<int32_t>& tokens, int lora_id) {
  ASSERT_TRUE(kv.allocate_slots(id, 0, static_cast<int>(tokens.size())));
  kv.cache_blocks(id, TokenSequence{tokens, {}}, lora_id, static_cast<int>(tokens.size()));
  kv.free(id);
}

TEST(KVCacheManager, PrefixHitIsLongestCachedRunOfFullBlocks) {
  KVCacheManager kv(10, 4, true);
  const std::vector<int32_t> a = iota_tokens(10, 0);  // blocks 0, 1 full; block 2 partial (never cached)
  compute_and_free(kv, "a", a, 0);
  EXPECT_EQ(kv.block_pool().num_cached_blocks(), 2);

  std::vector<int32_t> b = iota_tokens(12, 0);
  b[10] = 77;
  const ComputedBlocks hit_b = kv.get_computed_blocks(TokenSequence{b, {}}, 0);
  EXPECT_THAT(hit_b.block_ids, ElementsAre(0, 1));
  EXPECT_EQ(hit_b.num_computed_tokens, 8);

  std::vector<int32_t> c = iota_tokens(12, 0);
  c[5] = 77;
  EXPECT_THAT(kv.get_computed_blocks(TokenSequence{c, {}}, 0).block_ids, ElementsAre(0));
  EXPECT_THAT(kv.get_computed_blocks(TokenSequence{b, {}}, 1).block_ids, IsEmpty());  // other adapter
}

TEST(KVCacheManager, PrefixHitLeavesLastTokenToCompute) {
  KVCacheManager kv(10, 4, true);
  compute_and_free(kv, "a", iota_tokens(12, 0), 0);
  EXPECT_THAT(kv.get_computed_blocks(TokenSequence{iota_tokens(8, 0), {}}, 0).block_ids, ElementsAre(0));
  EXPECT_THAT(kv.get_computed_blocks(TokenSequence{iota_tokens(9, 0), {}}, 0).block_ids, ElementsAre(0, 1));
  EXPECT_THAT(kv.get_computed_blocks(TokenSequence{iota_tokens(12, 0), {}}, 0).block_ids, ElementsAre(0, 1));
  EXPECT_THAT(kv.get_computed_blocks(TokenSequence{iota_tokens(13, 0), {}}, 0).block_ids, ElementsAre(0, 1, 2));
}

TEST(KVCacheManager, PrefixCachingOffNeverHits) {
  KVCacheManager kv(10, 4, false);
  compute_and_free(kv, "a", iota_tokens(12, 0), 0);
  EXPECT_THAT(kv.get_computed_blocks(TokenSequence{iota_tokens(12, 0), {}}, 0).block_ids, IsEmpty());
  EXPECT_EQ(kv.block_pool().num_cached_blocks(), 0);
}

TEST(KVCacheManager, AllocateWithHitsTouchesCachedFreeBlocks) {
  KVCacheManager kv(10, 4, true);
  compute_and_free(kv, "a", iota_tokens(10, 0), 0);
  EXPECT_THAT(kv.block_pool().free_block_ids(), ElementsAre(3, 4, 5, 6, 7, 8, 9, 2, 1, 0));

  const std::vector<int32_t> b = iota_tokens(10, 0);
  const ComputedBlocks hit = kv.get_computed_blocks(TokenSequence{b, {}}, 0);
  ASSERT_TRUE(kv.allocate_slots("b", hit.num_computed_tokens, 2, hit.block_ids));
  EXPECT_THAT(kv.block_table("b"), ElementsAre(0, 1, 3));
  EXPECT_THAT(kv.block_pool().free_block_ids(), ElementsAre(4, 5, 6, 7, 8, 9, 2));
  EXPECT_EQ(kv.block_pool().block(0).ref_cnt, 1);
  kv.check_invariants();

  // A second live request shares the same cached blocks by reference.
  const ComputedBlocks hit2 = kv.get_computed_blocks(TokenSequence{b, {}}, 0);
  ASSERT_TRUE(kv.allocate_slots("c", hit2.num_computed_tokens, 2, hit2.block_ids));
  EXPECT_THAT(kv.block_table("c"), ElementsAre(0, 1, 4));
  EXPECT_EQ(kv.block_pool().block(1).ref_cnt, 2);
  kv.check_invariants();
}

TEST(KVCacheManager, HitsInFreeQueueCountAgainstFreeBlocks) {
  KVCacheManager kv(3, 4, true);
  compute_and_free(kv, "a", iota_tokens(12, 0), 0);  // 3 cached free blocks
  const std::vector<int32_t> b = iota_tokens(12, 0);
  const ComputedBlocks hit = kv.get_computed_blocks(TokenSequence{b, {}}, 0);
  ASSERT_THAT(hit.block_ids, ElementsAre(0, 1));
  // 2 hits + 2 fresh blocks for tokens 8..15 > 3 blocks.
  EXPECT_FALSE(kv.allocate_slots("b", 8, 8, hit.block_ids));
  EXPECT_EQ(kv.num_free_blocks(), 3);
  EXPECT_EQ(kv.block_pool().num_cached_blocks(), 3);
  ASSERT_TRUE(kv.allocate_slots("b", 8, 4, hit.block_ids));
  EXPECT_THAT(kv.block_table("b"), ElementsAre(0, 1, 2));  // block 2 evicted and reused
  kv.check_invariants();
}

// A finished request's blocks are freed tail first, so its last block is evicted before its prefix.
TEST(KVCacheManager, EvictionTakesTailOfFreedRequestFirst) {
  KVCacheManager kv(4, 4, true);
  const std::vector<int32_t> a = iota_tokens(16, 0);
  compute_and_free(kv, "a", a, 0);
  EXPECT_THAT(kv.block_pool().free_block_ids(), ElementsAre(3, 2, 1, 0));
  ASSERT_TRUE(kv.allocate_slots("b", 0, 4));
  EXPECT_THAT(kv.block_table("b"), ElementsAre(3));
  const ComputedBlocks hit = kv.get_computed_blocks(TokenSequence{iota_tokens(17, 0), {}}, 0);
  EXPECT_THAT(hit.block_ids, ElementsAre(0, 1, 2));
  kv.check_invariants();
}

TEST(KVCacheManager, CacheBlocksRegistersOnlyComputedFullBlocks) {
  KVCacheManager kv(8, 4, true);
  const std::vector<int32_t> prompt = iota_tokens(6, 0);
  const std::vector<int32_t> output{50, 51, 52};
  ASSERT_TRUE(kv.allocate_slots("a", 0, 6));
  kv.cache_blocks("a", TokenSequence{prompt, {}}, 0, 6);
  EXPECT_EQ(kv.block_pool().num_cached_blocks(), 1);
  ASSERT_TRUE(kv.allocate_slots("a", 6, 3));
  kv.cache_blocks("a", TokenSequence{prompt, output}, 0, 9);  // block 1 = {4, 5, 50, 51}
  EXPECT_EQ(kv.block_pool().num_cached_blocks(), 2);
  EXPECT_TRUE(kv.block_pool().block(1).block_hash.has_value());
  EXPECT_FALSE(kv.block_pool().block(2).block_hash.has_value());
  const std::vector<int32_t> joined{0, 1, 2, 3, 4, 5, 50, 51, 52};
  EXPECT_THAT(kv.get_computed_blocks(TokenSequence{joined, {}}, 0).block_ids, ElementsAre(0, 1));
  kv.check_invariants();
}

// Parent with a 6-token prompt (blocks 0 full, 1 half full) forks; block 0 stays shared, block 1 is copied once.
TEST(KVCacheManager, ForkSharesFullBlocksAndCopiesPartialBlockOnce) {
  KVCacheManager kv(10, 4, false);
  ASSERT_TRUE(kv.allocate_slots("p", 0, 6));
  kv.fork("p", "c");
  EXPECT_THAT(kv.block_table("c"), ElementsAre(0, 1));
  EXPECT_EQ(kv.block_pool().block(0).ref_cnt, 2);
  EXPECT_EQ(kv.block_pool().block(1).ref_cnt, 2);
  kv.check_invariants();

  ASSERT_TRUE(kv.allocate_slots("p", 6, 1));
  EXPECT_THAT(kv.block_table("p"), ElementsAre(0, 2));
  ASSERT_TRUE(kv.allocate_slots("c", 6, 1));
  EXPECT_THAT(kv.block_table("c"), ElementsAre(0, 1));  // sole owner now: written in place
  EXPECT_THAT(kv.take_pending_copies(), ElementsAre(Pair(1, 2)));
  EXPECT_THAT(kv.take_pending_copies(), IsEmpty());
  EXPECT_EQ(kv.block_pool().block(0).ref_cnt, 2);
  EXPECT_EQ(kv.block_pool().block(1).ref_cnt, 1);
  kv.check_invariants();

  ASSERT_TRUE(kv.allocate_slots("p", 7, 2));
  ASSERT_TRUE(kv.allocate_slots("c", 7, 2));
  EXPECT_THAT(kv.block_table("p"), ElementsAre(0, 2, 3));
  EXPECT_THAT(kv.block_table("c"), ElementsAre(0, 1, 4));
  EXPECT_THAT(kv.take_pending_copies(), IsEmpty());
  kv.free("p");
  kv.free("c");
  EXPECT_EQ(kv.num_free_blocks(), 10);
  kv.check_invariants();
}

TEST(KVCacheManager, ForkAtBlockBoundaryCopiesNothing) {
  KVCacheManager kv(6, 4, false);
  ASSERT_TRUE(kv.allocate_slots("p", 0, 8));
  kv.fork("p", "c1");
  kv.fork("p", "c2");
  EXPECT_EQ(kv.block_pool().block(1).ref_cnt, 3);
  ASSERT_TRUE(kv.allocate_slots("c1", 8, 1));
  ASSERT_TRUE(kv.allocate_slots("c2", 8, 1));
  ASSERT_TRUE(kv.allocate_slots("p", 8, 1));
  EXPECT_THAT(kv.block_table("c1"), ElementsAre(0, 1, 2));
  EXPECT_THAT(kv.block_table("c2"), ElementsAre(0, 1, 3));
  EXPECT_THAT(kv.block_table("p"), ElementsAre(0, 1, 4));
  EXPECT_THAT(kv.take_pending_copies(), IsEmpty());
  kv.check_invariants();
}

TEST(KVCacheManager, ThreeWayForkCopiesPartialBlockForAllButLastWriter) {
  KVCacheManager kv(8, 4, false);
  ASSERT_TRUE(kv.allocate_slots("p", 0, 5));  // blocks 0 (full), 1 (1 token)
  kv.fork("p", "c1");
  kv.fork("p", "c2");
  ASSERT_TRUE(kv.allocate_slots("p", 5, 1));
  ASSERT_TRUE(kv.allocate_slots("c1", 5, 1));
  ASSERT_TRUE(kv.allocate_slots("c2", 5, 1));
  EXPECT_THAT(kv.block_table("p"), ElementsAre(0, 2));
  EXPECT_THAT(kv.block_table("c1"), ElementsAre(0, 3));
  EXPECT_THAT(kv.block_table("c2"), ElementsAre(0, 1));
  EXPECT_THAT(kv.take_pending_copies(), ElementsAre(Pair(1, 2), Pair(1, 3)));
  kv.check_invariants();
}

TEST(KVCacheManager, CopyOnWriteFailsWithoutFreeBlockAndChangesNothing) {
  KVCacheManager kv(2, 4, false);
  ASSERT_TRUE(kv.allocate_slots("p", 0, 6));
  kv.fork("p", "c");
  EXPECT_FALSE(kv.allocate_slots("p", 6, 1));
  EXPECT_THAT(kv.block_table("p"), ElementsAre(0, 1));
  EXPECT_THAT(kv.take_pending_copies(), IsEmpty());
  kv.free("c");
  ASSERT_TRUE(kv.allocate_slots("p", 6, 1));  // sole owner again: no copy needed
  EXPECT_THAT(kv.block_table("p"), ElementsAre(0, 1));
  EXPECT_THAT(kv.take_pending_copies(), IsEmpty());
  kv.check_invariants();
}

TEST(KVCacheManager, FreeDropsPendingCopiesIntoItsBlocks) {
  KVCacheManager kv(6, 4, false);
  ASSERT_TRUE(kv.allocate_slots("p", 0, 6));
  kv.fork("p", "c");
  ASSERT_TRUE(kv.allocate_slots("p", 6, 1));  // pending (1, 2)
  kv.free("p");
  EXPECT_THAT(kv.take_pending_copies(), IsEmpty());
  kv.check_invariants();
}

TEST(KVCacheManager, ForkedCachedPrefixStaysSharedAfterFree) {
  KVCacheManager kv(8, 4, true);
  const std::vector<int32_t> prompt = iota_tokens(6, 0);
  ASSERT_TRUE(kv.allocate_slots("p", 0, 6));
  kv.cache_blocks("p", TokenSequence{prompt, {}}, 0, 6);
  kv.fork("p", "c");
  kv.free("p");
  EXPECT_EQ(kv.block_pool().block(0).ref_cnt, 1);
  EXPECT_EQ(kv.get_computed_blocks(TokenSequence{prompt, {}}, 0).num_computed_tokens, 4);
  kv.free("c");
  kv.reset_prefix_cache();
  EXPECT_EQ(kv.num_free_blocks(), 8);
  EXPECT_EQ(kv.block_pool().num_cached_blocks(), 0);
  kv.check_invariants();
}

TEST(KVCacheManager, RecordsPrefixCacheLookups) {
  KVCacheManager kv(4, 4, true);
  kv.record_prefix_cache_lookup(10, 8);
  kv.record_prefix_cache_lookup(5, 0);
  EXPECT_EQ(kv.prefix_cache_stats().num_requests, 2u);
  EXPECT_EQ(kv.prefix_cache_stats().num_query_tokens, 15u);
  EXPECT_EQ(kv.prefix_cache_stats().num_hit_tokens, 8u);
}

TEST(KVCacheManager, RejectsNonPositiveBlockSize) {
  EXPECT_THROW(KVCacheManager(4, 0, false), Error);
}

}  // namespace
}  // namespace pagedllm
