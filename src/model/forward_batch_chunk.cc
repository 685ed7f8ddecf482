#include "model/forward_batch_chunk.h"

#include <algorithm>

#include "util/error.h"

namespace pagedllm {

const ForwardBatch& ForwardBatchChunk::assign(const ForwardBatch& batch, int64_t row_begin, int64_t row_end) {
  PAGEDLLM_CHECK_MSG(0 <= row_begin && row_begin < row_end && row_end <= batch.n_tokens,
                     "chunk rows [{}, {}) of a batch of {}", row_begin, row_end, batch.n_tokens);
  // query_start is non-decreasing from 0 to n_tokens. first: the last sequence starting at or before row_begin, so
  // it holds row_begin; last: the last one starting before row_end, so it holds row_end - 1.
  const int32_t* qs = batch.query_start;
  const int first = static_cast<int>(std::upper_bound(qs, qs + batch.num_seqs + 1, row_begin) - qs) - 1;
  const int last = static_cast<int>(std::lower_bound(qs, qs + batch.num_seqs + 1, row_end) - qs) - 1;
  const int num_seqs = last - first + 1;
  query_start_.resize(num_seqs + 1);
  seq_lens_.resize(num_seqs);
  for (int i = 0; i <= num_seqs; ++i) {
    query_start_[i] = static_cast<int32_t>(std::clamp<int64_t>(qs[first + i], row_begin, row_end) - row_begin);
  }
  for (int i = 0; i < num_seqs; ++i) {
    const int32_t rows_after = qs[first + i + 1] - std::min<int32_t>(qs[first + i + 1], static_cast<int32_t>(row_end));
    seq_lens_[i] = batch.seq_lens[first + i] - rows_after;
  }
  chunk_ = ForwardBatch{};
  chunk_.n_tokens = row_end - row_begin;
  chunk_.token_ids = batch.token_ids + row_begin;
  chunk_.positions = batch.positions + row_begin;
  chunk_.slot_mapping = batch.slot_mapping + row_begin;
  chunk_.num_seqs = num_seqs;
  chunk_.query_start = query_start_.data();
  chunk_.seq_lens = seq_lens_.data();
  chunk_.block_tables = batch.block_tables + int64_t(first) * batch.max_blocks_per_seq;
  chunk_.max_blocks_per_seq = batch.max_blocks_per_seq;
  chunk_.lora_slots = batch.lora_slots == nullptr ? nullptr : batch.lora_slots + first;
  return chunk_;
}

}  // namespace pagedllm
