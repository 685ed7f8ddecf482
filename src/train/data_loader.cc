#include "train/data_loader.h"

#include <algorithm>
#include <numeric>

#include "kernels/cross_entropy.h"
#include "util/error.h"
#include "util/rng.h"

namespace pagedllm {

Batch make_batch(const std::vector<const TokenizedExample*>& examples, int32_t pad_id) {
  Batch batch;
  batch.n_seqs = static_cast<int64_t>(examples.size());
  for (const auto* e : examples) batch.seq_len = std::max<int64_t>(batch.seq_len, e->input_ids.size());
  const int64_t n = batch.n_seqs * batch.seq_len;
  batch.input_ids.assign(n, pad_id);
  batch.positions.resize(n);
  batch.targets.assign(n, kIgnoreTarget);
  for (int64_t s = 0; s < batch.n_seqs; ++s) {
    const TokenizedExample& e = *examples[s];
    const int64_t len = static_cast<int64_t>(e.input_ids.size());
    const int64_t row = s * batch.seq_len;
    std::copy(e.input_ids.begin(), e.input_ids.end(), batch.input_ids.begin() + row);
    for (int64_t t = 0; t < batch.seq_len; ++t) batch.positions[row + t] = t;
    for (int64_t t = 0; t + 1 < len; ++t) batch.targets[row + t] = e.labels[t + 1];
    batch.num_tokens += len;
  }
  batch.num_targets = count_targets(batch.targets.data(), n);
  return batch;
}

DataLoader::DataLoader(std::vector<TokenizedExample> examples, DataLoaderOptions options)
    : examples_(std::move(examples)), options_(options) {
  if (examples_.empty()) throw_error(ErrorKind::kInvalidArgument, "data loader: no examples");
  if (options_.batch_size < 1) {
    throw_error(ErrorKind::kInvalidArgument, "--batch-size {} must be at least 1", options_.batch_size);
  }
}

int64_t DataLoader::batches_per_epoch() const {
  return (num_examples() + options_.batch_size - 1) / options_.batch_size;
}

// Fisher-Yates from Rng(seed, epoch); with group_by_length, mega-batches sorted by decreasing length and the
// longest example moved to the front (so an out-of-memory shows up on the first step), as HF does.
std::vector<int64_t> DataLoader::epoch_order(int64_t epoch) const {
  std::vector<int64_t> order(examples_.size());
  std::iota(order.begin(), order.end(), 0);
  Rng rng(options_.seed ^ (0x9e3779b97f4a7c15ULL * static_cast<uint64_t>(epoch + 1)));
  for (int64_t i = num_examples() - 1; i > 0; --i) {
    const int64_t j = static_cast<int64_t>(rng.next_u64() % static_cast<uint64_t>(i + 1));
    std::swap(order[i], order[j]);
  }
  if (!options_.group_by_length) return order;
  auto length = [&](int64_t i) { return examples_[i].input_ids.size(); };
  const int64_t mega = 50 * options_.batch_size;
  for (int64_t begin = 0; begin < num_examples(); begin += mega) {
    const auto end = order.begin() + std::min(num_examples(), begin + mega);
    std::stable_sort(order.begin() + begin, end, [&](int64_t a, int64_t b) { return length(a) > length(b); });
  }
  const auto longest =
      std::max_element(order.begin(), order.end(), [&](int64_t a, int64_t b) { return length(a) < length(b); });
  std::iter_swap(order.begin(), longest);
  return order;
}

Batch DataLoader::next_batch() {
  if (order_epoch_ != position_.epoch) {
    order_ = epoch_order(position_.epoch);
    order_epoch_ = position_.epoch;
  }
  const int64_t end = std::min(num_examples(), position_.index + options_.batch_size);
  std::vector<const TokenizedExample*> picked;
  for (int64_t i = position_.index; i < end; ++i) picked.push_back(&examples_[order_[i]]);
  position_.index = end;
  if (position_.index == num_examples()) position_ = {position_.epoch + 1, 0};
  return make_batch(picked, options_.pad_id);
}

void DataLoader::set_position(DataPosition position) {
  if (position.epoch < 0 || position.index < 0 || position.index >= num_examples()) {
    throw_error(ErrorKind::kInvalidArgument, "data position (epoch {}, index {}) outside a data set of {} examples",
                position.epoch, position.index, num_examples());
  }
  position_ = position;
}

}  // namespace pagedllm
