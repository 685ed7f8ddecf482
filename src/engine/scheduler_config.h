// Scheduler limits (vLLM's SchedulerConfig / CLI flags --max-num-seqs, --max-num-batched-tokens, ...).
#pragma once

namespace pagedllm {

struct SchedulerConfig {
  int max_num_seqs = 256;             // requests scheduled in one step, and running requests admitted from waiting
  int max_num_batched_tokens = 2048;  // token budget of one step (all requests' num_new_tokens together)
  int max_model_len = 2048;           // prompt + output tokens of one request
  // Split a prompt that does not fit the remaining budget across steps. When off, a prompt waits until it fits
  // whole, so max_num_batched_tokens must be >= max_model_len.
  bool enable_chunked_prefill = true;
  int block_size = 16;                // must equal the KVCacheManager's
  bool enable_prefix_caching = false;
  // With chunked prefill: a request computes at most this many tokens per step (0 = no cap), so one long prompt
  // cannot take the whole budget from the prompts queued behind it.
  int long_prefill_token_threshold = 0;
};

}  // namespace pagedllm
