#include "model/perplexity.h"

#include <algorithm>
#include <cmath>

#include "kernels/elementwise.h"
#include "model/single_sequence_batch.h"
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

  double total_nll = 0.0;
  int64_t scored = 0, prev_end = 0;
  for (int64_t begin = 0; prev_end < n; begin += stride) {
    const int64_t end = std::min<int64_t>(begin + context, n);
    const int64_t len = end - begin;
    // Targets are positions [max(prev_end, begin+1), end): predicted from the row before each.
    const int64_t first_target = std::max<int64_t>(prev_end, begin + 1);
    std::vector<int32_t> rows;
    for (int64_t t = first_target; t < end; ++t) rows.push_back(static_cast<int32_t>(t - 1 - begin));
    const SingleSequenceBatch window(tokens.data() + begin, len, block_size, rows, lora_slot);
    std::vector<float> logits(rows.size() * size_t(vocab));
    if (!rows.empty()) model.forward(window.batch(), cache, logits.data());
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
