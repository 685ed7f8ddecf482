// One engine step flattened into a batch of tokens from many sequences (vLLM v1 style: prefill chunks and
// decodes mixed). All pointers are borrowed for the duration of Model::forward.
#pragma once

#include <cstdint>

namespace pagedllm {

struct ForwardBatch {
  int64_t n_tokens = 0;
  const int32_t* token_ids = nullptr;     // (n_tokens)
  const int64_t* positions = nullptr;     // (n_tokens) position of each token in its sequence
  const int64_t* slot_mapping = nullptr;  // (n_tokens) KV slot = block_id * block_size + offset
  int num_seqs = 0;
  const int32_t* query_start = nullptr;   // (num_seqs + 1) row ranges of each sequence's tokens
  const int32_t* seq_lens = nullptr;      // (num_seqs) tokens in the cache after this step
  const int32_t* block_tables = nullptr;  // (num_seqs, max_blocks_per_seq)
  int max_blocks_per_seq = 0;
  int num_logits = 0;
  const int32_t* logits_rows = nullptr;   // (num_logits) token rows whose next-token logits are wanted
  const int32_t* lora_slots = nullptr;    // (num_seqs) adapter slot per sequence, 0 = none; may be null
};

}  // namespace pagedllm
