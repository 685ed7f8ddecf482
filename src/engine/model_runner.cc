#include "engine/model_runner.h"

#include <fmt/format.h>

#include <algorithm>

#include "util/error.h"

namespace pagedllm {

const std::vector<int>& ModelRunner::execute(const SchedulerOutput& output) {
  for (const auto& [src, dst] : output.blocks_to_copy) cache_.copy_block(src, dst);

  const int num_seqs = static_cast<int>(output.scheduled.size());
  const int block_size = cache_.block_size();
  int max_blocks = 1;
  for (const auto& s : output.scheduled) max_blocks = std::max<int>(max_blocks, s.block_table.size());

  token_ids_.clear();
  positions_.clear();
  slot_mapping_.clear();
  logits_rows_.clear();
  sample_rows_.assign(num_seqs, -1);
  query_start_.assign(num_seqs + 1, 0);
  seq_lens_.assign(num_seqs, 0);
  block_tables_.assign(int64_t(num_seqs) * max_blocks, 0);
  for (int s = 0; s < num_seqs; ++s) {
    const ScheduledRequest& sr = output.scheduled[s];
    const int begin = sr.num_computed_tokens, end = begin + sr.num_new_tokens;
    PAGEDLLM_CHECK_MSG(int(sr.token_ids.size()) == sr.num_new_tokens, "request {} scheduled {} tokens with {} ids",
                       sr.request_id, sr.num_new_tokens, sr.token_ids.size());
    PAGEDLLM_CHECK_MSG(int64_t(sr.block_table.size()) * block_size >= end, "request {} has too few blocks", sr.request_id);
    token_ids_.insert(token_ids_.end(), sr.token_ids.begin(), sr.token_ids.end());
    for (int pos = begin; pos < end; ++pos) {
      positions_.push_back(pos);
      slot_mapping_.push_back(int64_t(sr.block_table[pos / block_size]) * block_size + pos % block_size);
    }
    std::copy(sr.block_table.begin(), sr.block_table.end(), block_tables_.begin() + int64_t(s) * max_blocks);
    query_start_[s + 1] = static_cast<int32_t>(token_ids_.size());
    seq_lens_[s] = end;
    // A step that reaches the request's last token samples its next one.
    if (!sr.is_prefill_chunk) {
      sample_rows_[s] = static_cast<int>(logits_rows_.size());
      logits_rows_.push_back(query_start_[s + 1] - 1);
    }
  }
  lora_slots_.clear();
  bool any_lora = false;
  for (const auto& s : output.scheduled) {
    lora_slots_.push_back(s.lora_id);
    any_lora |= s.lora_id != 0;
  }

  ForwardBatch batch;
  batch.n_tokens = static_cast<int64_t>(token_ids_.size());
  batch.token_ids = token_ids_.data();
  batch.positions = positions_.data();
  batch.slot_mapping = slot_mapping_.data();
  batch.num_seqs = num_seqs;
  batch.query_start = query_start_.data();
  batch.seq_lens = seq_lens_.data();
  batch.block_tables = block_tables_.data();
  batch.max_blocks_per_seq = max_blocks;
  batch.num_logits = static_cast<int>(logits_rows_.size());
  batch.logits_rows = logits_rows_.data();
  batch.lora_slots = any_lora ? lora_slots_.data() : nullptr;
  logits_.resize(int64_t(std::max(batch.num_logits, 1)) * model_.config().vocab_size);
  if (workers_ == nullptr) {
    if (batch.n_tokens > 0) model_.forward(batch, cache_, logits_.data());
    return sample_rows_;
  }
  try {
    workers_->step(batch, output.blocks_to_copy);
    if (batch.n_tokens > 0) model_.forward(batch, cache_, logits_.data());
  } catch (const std::exception& e) {
    workers_->comm().abort(1, fmt::format("tensor-parallel step failed: {}", e.what()));
  }
  return sample_rows_;
}

}  // namespace pagedllm
