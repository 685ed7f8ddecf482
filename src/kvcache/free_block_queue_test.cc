#include "kvcache/free_block_queue.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace pagedllm {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

TEST(FreeBlockQueue, StartsWithAllBlocksInIdOrder) {
  std::vector<KVCacheBlock> blocks(4);
  FreeBlockQueue queue(blocks);
  EXPECT_EQ(queue.size(), 4);
  EXPECT_THAT(queue.block_ids(), ElementsAre(0, 1, 2, 3));
}

TEST(FreeBlockQueue, PopsHeadAndAppendsAtTail) {
  std::vector<KVCacheBlock> blocks(4);
  FreeBlockQueue queue(blocks);
  EXPECT_EQ(queue.pop_front(), 0);
  EXPECT_EQ(queue.pop_front(), 1);
  queue.push_back(0);
  EXPECT_THAT(queue.block_ids(), ElementsAre(2, 3, 0));
  EXPECT_FALSE(queue.contains(1));
  EXPECT_TRUE(queue.contains(0));
}

TEST(FreeBlockQueue, RemovesFromMiddleHeadAndTail) {
  std::vector<KVCacheBlock> blocks(5);
  FreeBlockQueue queue(blocks);
  queue.remove(2);
  EXPECT_THAT(queue.block_ids(), ElementsAre(0, 1, 3, 4));
  queue.remove(0);
  queue.remove(4);
  EXPECT_THAT(queue.block_ids(), ElementsAre(1, 3));
  EXPECT_EQ(blocks[1].prev_free, kNoLink);
  EXPECT_EQ(blocks[1].next_free, 3);
  EXPECT_EQ(blocks[3].prev_free, 1);
  EXPECT_EQ(blocks[3].next_free, kNoLink);
  EXPECT_EQ(queue.size(), 2);
}

TEST(FreeBlockQueue, SingleBlockQueueEmptiesAndRefills) {
  std::vector<KVCacheBlock> blocks(1);
  FreeBlockQueue queue(blocks);
  EXPECT_TRUE(queue.contains(0));
  EXPECT_EQ(queue.pop_front(), 0);
  EXPECT_TRUE(queue.empty());
  EXPECT_FALSE(queue.contains(0));
  EXPECT_THAT(queue.block_ids(), IsEmpty());
  queue.push_back(0);
  EXPECT_THAT(queue.block_ids(), ElementsAre(0));
}

}  // namespace
}  // namespace pagedllm
