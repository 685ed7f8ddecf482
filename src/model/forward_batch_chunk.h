// Rows [row_begin, row_end) of a ForwardBatch as a batch of their own, so a step's rows can run through the layers a
// chunk at a time (LlamaModel::forward). The chunk's sequences are those with a row in the range; each one's
// seq_len is shortened by its rows after the chunk, so its query rows keep their positions and attend to exactly
// what they attend to in the whole batch (the rows before the chunk are in the KV cache by then). A chunk asks
// for no logits: the model collects the rows it samples itself.
#pragma once

#include <cstdint>
#include <vector>

#include "model/forward_batch.h"

namespace pagedllm {

class ForwardBatchChunk {
 public:
  // Points into `batch`'s arrays and this object's own; valid until the next assign and while `batch` lives.
  // Requires 0 <= row_begin < row_end <= batch.n_tokens.
  const ForwardBatch& assign(const ForwardBatch& batch, int64_t row_begin, int64_t row_end);

 private:
  std::vector<int32_t> query_start_;  // (num_seqs + 1) of the chunk, relative to row_begin
  std::vector<int32_t> seq_lens_;     // (num_seqs) of the chunk
  ForwardBatch chunk_;
};

}  // namespace pagedllm
