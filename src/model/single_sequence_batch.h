// One sequence's tokens at positions 0..n-1, their keys and values in KV slots 0..n-1 (blocks 0, 1, ... in order):
// the batch of whole-text evaluation (perplexity windows, the logits of a prompt). It owns the index arrays its
// ForwardBatch points into, so it is neither copied nor moved.
#pragma once

#include <cstdint>
#include <vector>

#include "model/forward_batch.h"

namespace pagedllm {

class SingleSequenceBatch {
 public:
  // logits_rows: the token rows whose next-token logits are wanted; lora_slot: 0 = no adapter. token_ids is
  // borrowed (n_tokens of them) for the batch's lifetime.
  SingleSequenceBatch(const int32_t* token_ids, int64_t n_tokens, int block_size, std::vector<int32_t> logits_rows,
                      int lora_slot = 0);
  SingleSequenceBatch(const SingleSequenceBatch&) = delete;
  SingleSequenceBatch& operator=(const SingleSequenceBatch&) = delete;

  const ForwardBatch& batch() const { return batch_; }

 private:
  std::vector<int64_t> positions_;  // also the slot mapping: position p lives in slot p
  std::vector<int32_t> block_table_;
  std::vector<int32_t> logits_rows_;
  int32_t query_start_[2] = {0, 0};
  int32_t seq_len_ = 0;
  int32_t lora_slot_ = 0;
  ForwardBatch batch_;
};

}  // namespace pagedllm
