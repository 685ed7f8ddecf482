// Turns the scheduler's plain SchedulerOutput into one flat ForwardBatch (token ids, positions, slot mapping,
// block tables, sequence lengths), applies pending copy-on-write block copies, and runs the model.
#pragma once

#include <cstdint>
#include <vector>

#include "engine/scheduler_output.h"
#include "engine/tensor_parallel_messages.h"
#include "model/llama_model.h"
#include "model/paged_kv_cache.h"

namespace pagedllm {

class ModelRunner {
 public:
  // With `workers` (rank 0 of a tensor-parallel run), each step is first sent to the other ranks, which run the same
  // forward on their shards; a forward that fails then ends the whole run, since the others wait inside it.
  ModelRunner(LlamaModel& model, PagedKVCache& cache, WorkerLink* workers = nullptr)
      : model_(model), cache_(cache), workers_(workers) {}

  // Runs the step (each sequence through its lora_id's adapter). Returns, for each entry of output.scheduled, the
  // row of `logits_row()` holding its next-token logits, or -1 when the entry is a partial prefill chunk that
  // samples nothing.
  const std::vector<int>& execute(const SchedulerOutput& output);

  // (num_sampling_requests, vocab) logits of the last execute().
  float* logits_row(int row) { return logits_.data() + int64_t(row) * model_.config().vocab_size; }

 private:
  LlamaModel& model_;
  PagedKVCache& cache_;
  WorkerLink* workers_;
  std::vector<int32_t> token_ids_, query_start_, seq_lens_, block_tables_, logits_rows_, lora_slots_;
  std::vector<int64_t> positions_, slot_mapping_;
  std::vector<int> sample_rows_;
  std::vector<float> logits_;
};

}  // namespace pagedllm
