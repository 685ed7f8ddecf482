#include "model/perplexity.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "kernels/elementwise.h"
#include "util/error.h"

namespace pagedllm {

PerplexityResult compute_perplexity(LlamaModel& model, const std::vector<int32_t>& tokens, int context, int stride, int lora_slot) {
  const int64_t n = static_cast<int64_t>(tokens.size());
  if (n < 2) throw_error(ErrorKind::kInvalidArgument, "perplexity needs at least two tokens, got {}", n);
  if (context < 2 || context > model.config().max_position_embeddings) {
    throw_error(ErrorKind::kInvalidArgument, "--context must be in [2, {}], got {}", model.config().max_position_embeddings, context);
  }
  if (stride < 1 || stride > context) throw_error(ErrorKind::kInvalidArgument, "--stride must be in [1, --context], got {}", stride);
  const int block_size = 16;
  const int num_blocks = (context + block_size - 1) / block_size;
  PagedKVCache cache(model.weights().shard_config, num_blocks, block_size);  // this rank's KV heads
  const int vocab = model.config().vocab_size;

  std::vector<int32_t> block_table(num_blocks);
  std::iota(block_table.begin(), block_table.end(), 0);
  double total_nll = 0.0;
  int64_t scored = 0, prev_end = 0;
  for (int64_t begin = 0; prev_end < n; begin += stride) {
    const int64_t end = std::min<int64_t>(begin + context, n);
    const int64_t len = end - begin;
    // Targets are positions [max(prev_end, begin+1), end): predicted from the row before each.
    const int64_t first_target = std::max<int64_t>(prev_end, begin + 1);
    std::vector<int64_t> positions(len), slots(len);
    std::vector<int32_t> rows;
    for (int64_t i = 0; i < len; ++i) positions[i] = slots[i] = i;
    for (int64_t t = first_target; t < end; ++t) rows.push_back(static_cast<int32_t>(t - 1 - begin));
    int32_t query_start[2] = {0, static_cast<int32_t>(len)};
    int32_t seq_len = static_cast<int32_t>(len);
    ForwardBatch batch;
    batch.n_tokens = len;
    batch.token_ids = tokens.data() + begin;
    batch.positions = positions.data();
    batch.slot_mapping = slots.data();
    batch.num_seqs = 1;
    batch.query_start = query_start;
    batch.seq_lens = &seq_len;
    batch.block_tables = block_table.data();
    batch.max_blocks_per_seq = num_blocks;
    batch.num_logits = static_cast<int>(rows.size());
    batch.logits_rows = rows.data();
    batch.lora_slots = lora_slot > 0 ? &lora_slot : nullptr;
    std::vector<float> logits(rows.size() * size_t(vocab));
    if (!rows.empty()) model.forward(batch, cache, logits.data());
    log_softmax(logits.data(), logits.data(), static_cast<int64_t>(rows.size()), vocab);
    for (size_t r = 0; r < rows.size(); ++r) total_nll -= logits[r * vocab + tokens[first_target + r]];
    scored += static_cast<int64_t>(rows.size());
    prev_end = end;
  }
  PerplexityResult result;
  result.num_tokens_scored = scored;
  result.mean_nll = total_nll / scored;
  result.perplexity = std::exp(result.mean_nll);
  return result;
}

}  // namespace pagedllm
