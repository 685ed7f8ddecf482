#include "engine/tensor_parallel_messages.h"

#include <gtest/gtest.h>

#include "util/error.h"

namespace pagedllm {
namespace {

TEST(TensorParallelMessages, StepSurvivesEncodeAndDecode) {
  // Two sequences: a 3-token prefill chunk and one decode token, the second with adapter slot 2.
  const std::vector<int32_t> token_ids = {1, 403, 407, 261}, query_start = {0, 3, 4}, seq_lens = {3, 9};
  const std::vector<int32_t> block_tables = {5, 0, 7, 8}, logits_rows = {3}, lora_slots = {0, 2};
  const std::vector<int64_t> positions = {0, 1, 2, 8}, slot_mapping = {80, 81, 82, 128};
  ForwardBatch b;
  b.n_tokens = 4;
  b.token_ids = token_ids.data();
  b.positions = positions.data();
  b.slot_mapping = slot_mapping.data();
  b.num_seqs = 2;
  b.query_start = query_start.data();
  b.seq_lens = seq_lens.data();
  b.block_tables = block_tables.data();
  b.max_blocks_per_seq = 2;
  b.num_logits = 1;
  b.logits_rows = logits_rows.data();
  b.lora_slots = lora_slots.data();

  const WorkerMessage m = decode_worker_message(encode_step(b, {{7, 9}, {3, 4}}));
  ASSERT_EQ(m.command, WorkerCommand::kStep);
  const ForwardBatch& r = m.step.batch;
  EXPECT_EQ(r.n_tokens, 4);
  EXPECT_EQ(std::vector<int32_t>(r.token_ids, r.token_ids + 4), token_ids);
  EXPECT_EQ(std::vector<int64_t>(r.positions, r.positions + 4), positions);
  EXPECT_EQ(std::vector<int64_t>(r.slot_mapping, r.slot_mapping + 4), slot_mapping);
  EXPECT_EQ(r.num_seqs, 2);
  EXPECT_EQ(std::vector<int32_t>(r.query_start, r.query_start + 3), query_start);
  EXPECT_EQ(std::vector<int32_t>(r.seq_lens, r.seq_lens + 2), seq_lens);
  EXPECT_EQ(r.max_blocks_per_seq, 2);
  EXPECT_EQ(std::vector<int32_t>(r.block_tables, r.block_tables + 4), block_tables);
  EXPECT_EQ(r.num_logits, 1);
  EXPECT_EQ(r.logits_rows[0], 3);
  ASSERT_NE(r.lora_slots, nullptr);
  EXPECT_EQ(std::vector<int32_t>(r.lora_slots, r.lora_slots + 2), lora_slots);
  EXPECT_EQ(m.step.blocks_to_copy, (std::vector<std::pair<int, int>>{{7, 9}, {3, 4}}));
}

TEST(TensorParallelMessages, StepWithoutAdaptersHasNoSlots) {
  const std::vector<int32_t> ids = {5}, query_start = {0, 1}, seq_lens = {1}, tables = {0}, rows = {0};
  const std::vector<int64_t> positions = {0}, slots = {0};
  ForwardBatch b{1, ids.data(), positions.data(), slots.data(), 1, query_start.data(), seq_lens.data(), tables.data(),
                 1, 1, rows.data(), nullptr};
  const WorkerMessage m = decode_worker_message(encode_step(b, {}));
  EXPECT_EQ(m.step.batch.lora_slots, nullptr);
  EXPECT_TRUE(m.step.blocks_to_copy.empty());
}

TEST(TensorParallelMessages, ControlMessagesSurvive) {
  const WorkerMessage lora = decode_worker_message(encode_add_lora("dog", "/tmp/adapters/dog=1"));
  EXPECT_EQ(lora.command, WorkerCommand::kAddLora);
  EXPECT_EQ(lora.lora_name, "dog");
  EXPECT_EQ(lora.lora_dir, "/tmp/adapters/dog=1");
  EXPECT_EQ(decode_worker_message(encode_shutdown()).command, WorkerCommand::kShutdown);
}

TEST(TensorParallelMessages, TruncatedOrUnknownMessagesAreCorrupt) {
  const std::vector<int32_t> ids = {5, 6}, query_start = {0, 2}, seq_lens = {2}, tables = {0}, rows = {1};
  const std::vector<int64_t> positions = {0, 1}, slots = {0, 1};
  ForwardBatch b{2, ids.data(), positions.data(), slots.data(), 1, query_start.data(), seq_lens.data(), tables.data(),
                 1, 1, rows.data(), nullptr};
  EncodedMessage e = encode_step(b, {});
  e.payload.resize(e.payload.size() - 4);
  EXPECT_THROW(decode_worker_message(e), Error);
  EncodedMessage unknown = encode_shutdown();
  unknown.header[0] = 42;
  try {
    decode_worker_message(unknown);
    FAIL() << "an unknown command must throw";
  } catch (const Error& error) {
    EXPECT_EQ(error.kind(), ErrorKind::kCorrupt);
    EXPECT_STREQ(error.what(), "unknown tensor-parallel command 42");
  }
}

}  // namespace
}  // namespace pagedllm
