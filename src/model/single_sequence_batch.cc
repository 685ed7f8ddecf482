#include "model/single_sequence_batch.h"

#include <numeric>

namespace pagedllm {

SingleSequenceBatch::SingleSequenceBatch(const int32_t* token_ids, int64_t n_tokens, int block_size,
                                         std::vector<int32_t> logits_rows, int lora_slot)
    : positions_(n_tokens),
      block_table_((n_tokens + block_size - 1) / block_size),
      logits_rows_(std::move(logits_rows)),
      query_start_{0, static_cast<int32_t>(n_tokens)},
      seq_len_(static_cast<int32_t>(n_tokens)),
      lora_slot_(lora_slot) {
  std::iota(positions_.begin(), positions_.end(), 0);
  std::iota(block_table_.begin(), block_table_.end(), 0);
  batch_.n_tokens = n_tokens;
  batch_.token_ids = token_ids;
  batch_.positions = positions_.data();
  batch_.slot_mapping = positions_.data();
  batch_.num_seqs = 1;
  batch_.query_start = query_start_;
  batch_.seq_lens = &seq_len_;
  batch_.block_tables = block_table_.data();
  batch_.max_blocks_per_seq = static_cast<int>(block_table_.size());
  batch_.num_logits = static_cast<int>(logits_rows_.size());
  batch_.logits_rows = logits_rows_.data();
  batch_.lora_slots = lora_slot_ > 0 ? &lora_slot_ : nullptr;
}

}  // namespace pagedllm
