#include "train/paged_store.h"

#include <gtest/gtest.h>

#include <vector>

namespace pagedllm {
namespace {

TEST(PagedStoreTest, PagesStartZeroed) {
  PagedStore store(100, 32, 1 << 20, ::testing::TempDir());
  EXPECT_EQ(store.num_pages(), 4u);
  const uint8_t* page = store.page(3);
  for (int i = 0; i < 32; ++i) EXPECT_EQ(page[i], 0);
}

TEST(PagedStoreTest, EvictsLeastRecentlyUsedAndRestoresContents) {
  PagedStore store(5 * 64, 64, 2 * 64, ::testing::TempDir());
  EXPECT_EQ(store.max_resident_pages(), 2u);
  for (size_t p = 0; p < 5; ++p) {
    uint8_t* page = store.page(p);
    for (int i = 0; i < 64; ++i) page[i] = static_cast<uint8_t>(p * 10 + i);
  }
  EXPECT_EQ(store.num_evictions(), 3u);  // pages 0, 1, 2 went out to make room for 2, 3, 4
  EXPECT_EQ(store.num_page_ins(), 0u);
  EXPECT_EQ(store.resident_bytes(), 128u);
  store.page(3);  // page 4 becomes the least recently used
  store.page(0);  // evicts 4, reads 0 back
  EXPECT_EQ(store.num_evictions(), 4u);
  EXPECT_EQ(store.num_page_ins(), 1u);
  for (size_t p = 0; p < 5; ++p) {
    const uint8_t* page = store.page(p);
    for (int i = 0; i < 64; ++i) ASSERT_EQ(page[i], static_cast<uint8_t>(p * 10 + i)) << p << " " << i;
  }
}

TEST(PagedStoreTest, BudgetBelowOnePageStillHoldsOnePage) {
  PagedStore store(256, 64, 10, ::testing::TempDir());
  EXPECT_EQ(store.max_resident_pages(), 1u);
  store.page(0)[5] = 42;
  store.page(1)[5] = 43;
  EXPECT_EQ(store.page(0)[5], 42);
  EXPECT_EQ(store.page(1)[5], 43);
  EXPECT_EQ(store.num_evictions(), 3u);
}

TEST(PagedStoreTest, LargeBudgetNeverEvicts) {
  PagedStore store(1000, 64, 1 << 20, ::testing::TempDir());
  for (size_t p = 0; p < store.num_pages(); ++p) store.page(p)[0] = 1;
  EXPECT_EQ(store.num_evictions(), 0u);
}

}  // namespace
}  // namespace pagedllm
