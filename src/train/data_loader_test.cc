#include "train/data_loader.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "kernels/cross_entropy.h"
#include "util/error.h"

namespace pagedllm {
namespace {

constexpr int32_t I = kIgnoreTarget;

// Example i has length i + 1 and token ids 100·i + position; labels mask the first token.
std::vector<TokenizedExample> make_examples(int n) {
  std::vector<TokenizedExample> out(n);
  for (int i = 0; i < n; ++i) {
    for (int t = 0; t <= i; ++t) {
      out[i].input_ids.push_back(100 * i + t);
      out[i].labels.push_back(t == 0 ? I : 100 * i + t);
    }
  }
  return out;
}

TEST(DataLoaderTest, BatchIsRightPaddedWithShiftedTargets) {
  const auto examples = make_examples(3);
  const Batch b = make_batch({&examples[2], &examples[0]}, 0);
  EXPECT_EQ(b.n_seqs, 2);
  EXPECT_EQ(b.seq_len, 3);
  EXPECT_EQ(b.input_ids, (std::vector<int32_t>{200, 201, 202, 0, 0, 0}));
  EXPECT_EQ(b.positions, (std::vector<int64_t>{0, 1, 2, 0, 1, 2}));
  EXPECT_EQ(b.targets, (std::vector<int32_t>{201, 202, I, I, I, I}));
  EXPECT_EQ(b.num_targets, 2);
  EXPECT_EQ(b.num_tokens, 4);
}

TEST(DataLoaderTest, EpochVisitsEveryExampleOnceInASeededOrder) {
  DataLoader a(make_examples(10), {3, 42, false, 0});
  DataLoader b(make_examples(10), {3, 42, false, 0});
  DataLoader c(make_examples(10), {3, 43, false, 0});
  EXPECT_EQ(a.epoch_order(0), b.epoch_order(0));
  EXPECT_NE(a.epoch_order(0), c.epoch_order(0));
  EXPECT_NE(a.epoch_order(0), a.epoch_order(1));
  std::vector<int64_t> sorted = a.epoch_order(0);
  std::sort(sorted.begin(), sorted.end());
  for (int i = 0; i < 10; ++i) EXPECT_EQ(sorted[i], i);
  EXPECT_EQ(a.batches_per_epoch(), 4);
  int64_t seen = 0;
  for (int i = 0; i < 4; ++i) seen += a.next_batch().n_seqs;
  EXPECT_EQ(seen, 10);  // 3 + 3 + 3 + 1
  EXPECT_EQ(a.position(), (DataPosition{1, 0}));
}

TEST(DataLoaderTest, ResumingFromAPositionGivesTheSameBatches) {
  DataLoader a(make_examples(7), {2, 5, false, 0});
  for (int i = 0; i < 5; ++i) a.next_batch();  // into the second epoch
  const DataPosition saved = a.position();
  EXPECT_EQ(saved, (DataPosition{1, 2}));
  DataLoader b(make_examples(7), {2, 5, false, 0});
  b.set_position(saved);
  for (int i = 0; i < 6; ++i) EXPECT_EQ(a.next_batch().input_ids, b.next_batch().input_ids) << i;
  EXPECT_THROW(b.set_position({0, 7}), Error);
}

TEST(DataLoaderTest, GroupByLengthSortsMegaBatchesLongestFirst) {
  DataLoader loader(make_examples(30), {2, 9, true, 0});
  const auto order = loader.epoch_order(0);
  EXPECT_EQ(order[0], 29);  // the longest example leads
  EXPECT_EQ(std::set<int64_t>(order.begin(), order.end()).size(), 30u);
  // 30 < 50·2: one mega-batch, sorted by decreasing length after the longest was swapped to the front.
  EXPECT_TRUE(std::is_sorted(order.begin() + 1, order.end(), std::greater<int64_t>()));
}

}  // namespace
}  // namespace pagedllm
