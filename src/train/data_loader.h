// Batches of tokenized examples in a deterministic, resumable order: epoch e visits the examples in a permutation
// drawn from (seed, e); with group_by_length, Hugging Face's LengthGroupedSampler arrangement (mega-batches of
// 50 × batch_size sorted by length, longest example first) so batches hold similar lengths. The position
// (epoch, index in the epoch) is all a checkpoint needs to continue with the very same batches.
#pragma once

#include <cstdint>
#include <vector>

#include "train/tokenized_example.h"

namespace pagedllm {

// A right-padded batch, ready for the model: rows s·seq_len … s·seq_len + seq_len − 1 are sequence s.
struct Batch {
  int64_t n_seqs = 0;
  int64_t seq_len = 0;                // the longest example of the batch
  std::vector<int32_t> input_ids;     // (n_seqs·seq_len), pad_id after each example's end
  std::vector<int64_t> positions;     // (n_seqs·seq_len), 0-based within each sequence
  std::vector<int32_t> targets;       // (n_seqs·seq_len): the label of position t + 1, kIgnoreTarget at the last
                                      // position, on padding and on masked labels (cross_entropy.h)
  int64_t num_targets = 0;            // count_targets(targets)
  int64_t num_tokens = 0;             // real (non-padding) tokens
};

Batch make_batch(const std::vector<const TokenizedExample*>& examples, int32_t pad_id);

struct DataPosition {
  int64_t epoch = 0;
  int64_t index = 0;  // examples of this epoch already consumed
  bool operator==(const DataPosition&) const = default;
};

struct DataLoaderOptions {
  int64_t batch_size = 1;
  uint64_t seed = 0;
  bool group_by_length = false;
  int32_t pad_id = 0;
};

class DataLoader {
 public:
  // Throws Error(kInvalidArgument) if examples is empty or batch_size < 1.
  DataLoader(std::vector<TokenizedExample> examples, DataLoaderOptions options);

  // The next batch_size examples of the current epoch (fewer at its end), then moves on, into the next epoch
  // when this one is exhausted.
  Batch next_batch();

  DataPosition position() const { return position_; }
  // Throws Error(kInvalidArgument) if index is past the epoch's end.
  void set_position(DataPosition position);

  int64_t num_examples() const { return static_cast<int64_t>(examples_.size()); }
  int64_t batches_per_epoch() const;
  // The example order of an epoch (a permutation of 0 … num_examples − 1).
  std::vector<int64_t> epoch_order(int64_t epoch) const;

 private:
  std::vector<TokenizedExample> examples_;
  DataLoaderOptions options_;
  DataPosition position_;
  int64_t order_epoch_ = -1;  // the epoch order_ was computed for
  std::vector<int64_t> order_;
};

}  // namespace pagedllm
