#include "model/forward_batch_chunk.h"

#include <gtest/gtest.h>

#include <vector>


namespace pagedllm {
namespace {

// Three sequences: rows 0-2 (a prefill chunk that continues 2 cached tokens), rows 3-9 (a 7-token prompt), row 10
// (one decode token of a 20-token sequence).
struct ThreeSequences {
  std::vector<int32_t> token_ids = {10, 11, 12, 20, 21, 22, 23, 24, 25, 26, 30};
  std::vector<int64_t> positions = {2, 3, 4, 0, 1, 2, 3, 4, 5, 6, 19};
  std::vector<int64_t> slots = {102, 103, 104, 200, 201, 202, 203, 204, 205, 206, 319};
  std::vector<int32_t> query_start = {0, 3, 10, 11};
  std::vector<int32_t> seq_lens = {5, 7, 20};
  std::vector<int32_t> block_tables = {1, -1, 2, -1, 3, 4};  // 3 × 2
  std::vector<int32_t> lora_slots = {0, 1, 2};
  ForwardBatch batch() {
    ForwardBatch b;
    b.n_tokens = 11;
    b.token_ids = token_ids.data();
    b.positions = positions.data();
    b.slot_mapping = slots.data();
    b.num_seqs = 3;
    b.query_start = query_start.data();
    b.seq_lens = seq_lens.data();
    b.block_tables = block_tables.data();
    b.max_blocks_per_seq = 2;
    b.num_logits = 3;
    b.logits_rows = query_start.data();  // any rows: a chunk must not carry them
    b.lora_slots = lora_slots.data();
    return b;
  }
};

std::vector<int32_t> values(const int32_t* p, int n) { return std::vector<int32_t>(p, p + n); }

TEST(ForwardBatchChunk, RowsInsideOneSequenceEndItsHistoryAtTheChunksLastRow) {
  ThreeSequences s;
  const ForwardBatch whole = s.batch();
  ForwardBatchChunk chunk;
  const ForwardBatch& c = chunk.assign(whole, 4, 7);
  EXPECT_EQ(c.n_tokens, 3);
  EXPECT_EQ(c.token_ids, s.token_ids.data() + 4);
  EXPECT_EQ(c.positions, s.positions.data() + 4);
  EXPECT_EQ(c.slot_mapping, s.slots.data() + 4);
  ASSERT_EQ(c.num_seqs, 1);
  EXPECT_EQ(values(c.query_start, 2), (std::vector<int32_t>{0, 3}));
  // Rows 4-6 are positions 1-3 of the prompt: 4 tokens in the cache after the chunk.
  EXPECT_EQ(c.seq_lens[0], 4);
  EXPECT_EQ(c.block_tables, s.block_tables.data() + 2);
  EXPECT_EQ(c.max_blocks_per_seq, 2);
  EXPECT_EQ(c.lora_slots[0], 1);
  EXPECT_EQ(c.num_logits, 0);
  EXPECT_EQ(c.logits_rows, nullptr);
}

TEST(ForwardBatchChunk, RowsAcrossSequencesKeepEachOnesPositions) {
  ThreeSequences s;
  const ForwardBatch whole = s.batch();
  ForwardBatchChunk chunk;
  const ForwardBatch& head = chunk.assign(whole, 0, 5);
  ASSERT_EQ(head.num_seqs, 2);
  EXPECT_EQ(values(head.query_start, 3), (std::vector<int32_t>{0, 3, 5}));
  EXPECT_EQ(values(head.seq_lens, 2), (std::vector<int32_t>{5, 2}));
  EXPECT_EQ(head.block_tables, s.block_tables.data());
  EXPECT_EQ(values(head.lora_slots, 2), (std::vector<int32_t>{0, 1}));

  const ForwardBatch& tail = chunk.assign(whole, 5, 11);
  ASSERT_EQ(tail.num_seqs, 2);
  EXPECT_EQ(values(tail.query_start, 3), (std::vector<int32_t>{0, 5, 6}));
  EXPECT_EQ(values(tail.seq_lens, 2), (std::vector<int32_t>{7, 20}));
  EXPECT_EQ(tail.block_tables, s.block_tables.data() + 2);
  EXPECT_EQ(values(tail.lora_slots, 2), (std::vector<int32_t>{1, 2}));
}

TEST(ForwardBatchChunk, WithoutAdaptersTheChunkHasNone) {
  ThreeSequences s;
  ForwardBatch whole = s.batch();
  whole.lora_slots = nullptr;
  ForwardBatchChunk chunk;
  EXPECT_EQ(chunk.assign(whole, 10, 11).lora_slots, nullptr);
  EXPECT_EQ(chunk.assign(whole, 10, 11).num_seqs, 1);
  EXPECT_EQ(chunk.assign(whole, 10, 11).seq_lens[0], 20);
}

TEST(ForwardBatchChunkDeathTest, RefusesRowsOutsideTheBatch) {
  ThreeSequences s;
  const ForwardBatch whole = s.batch();
  ForwardBatchChunk chunk;
  EXPECT_DEATH(chunk.assign(whole, 5, 12), "chunk rows \\[5, 12\\) of a batch of 11");
  EXPECT_DEATH(chunk.assign(whole, 4, 4), "chunk rows");
  EXPECT_DEATH(chunk.assign(whole, -1, 3), "chunk rows");
}

}  // namespace
}  // namespace pagedllm
