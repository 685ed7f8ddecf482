#include "kvcache/block_pool.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "util/error.h"

namespace pagedllm {
namespace {

using ::testing::ElementsAre;

BlockHash test_hash(uint64_t n) { return BlockHash{n, ~n}; }

TEST(BlockPool, AllocatesFromHeadInIdOrder) {
  BlockPool pool(8, false);
  EXPECT_THAT(*pool.get_new_blocks(3), ElementsAre(0, 1, 2));
  EXPECT_EQ(pool.num_free_blocks(), 5);
  EXPECT_THAT(pool.free_block_ids(), ElementsAre(3, 4, 5, 6, 7));
  EXPECT_EQ(pool.block(1).ref_cnt, 1);
  EXPECT_DOUBLE_EQ(pool.usage(), 3.0 / 8.0);
  pool.check_invariants();
}

TEST(BlockPool, FreedBlocksJoinTailInGivenOrder) {
  BlockPool pool(6, false);
  pool.get_new_blocks(4);
  const std::vector<int> to_free{2, 0};
  pool.free_blocks(to_free);
  EXPECT_THAT(pool.free_block_ids(), ElementsAre(4, 5, 2, 0));
  EXPECT_THAT(*pool.get_new_blocks(3), ElementsAre(4, 5, 2));
  pool.check_invariants();
}

TEST(BlockPool, AllocationFailsWhenExhausted) {
  BlockPool pool(4, false);
  ASSERT_TRUE(pool.get_new_blocks(3).has_value());
  EXPECT_FALSE(pool.get_new_blocks(2).has_value());
  EXPECT_EQ(pool.num_free_blocks(), 1);
  EXPECT_THAT(*pool.get_new_blocks(1), ElementsAre(3));
  EXPECT_FALSE(pool.get_new_blocks(1).has_value());
  EXPECT_THAT(*pool.get_new_blocks(0), ElementsAre());
  EXPECT_DOUBLE_EQ(pool.usage(), 1.0);
  pool.check_invariants();
}

TEST(BlockPool, SharedBlockReturnsToQueueOnlyAtLastReference) {
  BlockPool pool(4, false);
  pool.get_new_blocks(2);
  const std::vector<int> block0{0};
  pool.touch(block0);
  EXPECT_EQ(pool.block(0).ref_cnt, 2);
  pool.free_blocks(block0);
  EXPECT_EQ(pool.block(0).ref_cnt, 1);
  EXPECT_THAT(pool.free_block_ids(), ElementsAre(2, 3));
  pool.free_blocks(block0);
  EXPECT_EQ(pool.block(0).ref_cnt, 0);
  EXPECT_THAT(pool.free_block_ids(), ElementsAre(2, 3, 0));
  pool.check_invariants();
}

// Four cached blocks freed as [1, 0, 3, 2]: allocation evicts the least recently freed (1) and only it.
TEST(BlockPool, EvictsLeastRecentlyFreedCachedBlock) {
  BlockPool pool(4, true);
  pool.get_new_blocks(4);
  for (int b = 0; b < 4; ++b) EXPECT_TRUE(pool.cache_full_block(b, test_hash(b)));
  pool.free_blocks(std::vector<int>{1, 0});
  pool.free_blocks(std::vector<int>{3, 2});
  EXPECT_THAT(pool.free_block_ids(), ElementsAre(1, 0, 3, 2));
  EXPECT_EQ(pool.get_cached_block(test_hash(1)), 1);

  EXPECT_THAT(*pool.get_new_blocks(1), ElementsAre(1));
  EXPECT_FALSE(pool.get_cached_block(test_hash(1)).has_value());
  EXPECT_FALSE(pool.block(1).block_hash.has_value());
  EXPECT_EQ(pool.get_cached_block(test_hash(0)), 0);
  EXPECT_EQ(pool.num_cached_blocks(), 3);
  pool.check_invariants();
}

TEST(BlockPool, TouchUnlinksCachedFreeBlockFromMiddle) {
  BlockPool pool(4, true);
  pool.get_new_blocks(4);
  for (int b = 0; b < 4; ++b) pool.cache_full_block(b, test_hash(10 + b));
  pool.free_blocks(std::vector<int>{3, 2, 1, 0});
  pool.touch(std::vector<int>{*pool.get_cached_block(test_hash(12))});
  EXPECT_EQ(pool.block(2).ref_cnt, 1);
  EXPECT_THAT(pool.free_block_ids(), ElementsAre(3, 1, 0));
  EXPECT_EQ(pool.get_cached_block(test_hash(12)), 2);  // a hit keeps the hash
  EXPECT_THAT(*pool.get_new_blocks(3), ElementsAre(3, 1, 0));
  EXPECT_EQ(pool.num_cached_blocks(), 1);
  pool.check_invariants();
}

TEST(BlockPool, DuplicateHashStaysUncached) {
  BlockPool pool(3, true);
  pool.get_new_blocks(2);
  EXPECT_TRUE(pool.cache_full_block(0, test_hash(5)));
  EXPECT_FALSE(pool.cache_full_block(1, test_hash(5)));
  EXPECT_FALSE(pool.block(1).block_hash.has_value());
  EXPECT_EQ(pool.get_cached_block(test_hash(5)), 0);
  pool.check_invariants();
}

TEST(BlockPool, CachingDisabledCachesNothing) {
  BlockPool pool(2, false);
  pool.get_new_blocks(1);
  EXPECT_FALSE(pool.cache_full_block(0, test_hash(1)));
  EXPECT_FALSE(pool.get_cached_block(test_hash(1)).has_value());
  pool.check_invariants();
}

TEST(BlockPool, ResetPrefixCacheForgetsEveryHash) {
  BlockPool pool(3, true);
  pool.get_new_blocks(2);
  pool.cache_full_block(0, test_hash(1));
  pool.cache_full_block(1, test_hash(2));
  pool.free_blocks(std::vector<int>{1});
  pool.reset_prefix_cache();
  EXPECT_EQ(pool.num_cached_blocks(), 0);
  EXPECT_FALSE(pool.block(0).block_hash.has_value());
  EXPECT_FALSE(pool.get_cached_block(test_hash(2)).has_value());
  EXPECT_EQ(pool.block(0).ref_cnt, 1);
  EXPECT_THAT(pool.free_block_ids(), ElementsAre(2, 1));
  pool.check_invariants();
}

TEST(BlockPool, RejectsNonPositiveSize) {
  EXPECT_THROW(BlockPool(0, false), Error);
}

}  // namespace
}  // namespace pagedllm
