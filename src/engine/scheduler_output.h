// What one scheduler step hands to the model side: which requests compute how many tokens, through which
// blocks. Plain data; the model runner reads it and never changes the requests.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "engine/request.h"

namespace pagedllm {

struct ScheduledRequest {
  std::shared_ptr<Request> request;
  // This step computes tokens [num_computed_tokens, num_computed_tokens + num_new_tokens) of the request
  // (positions; the token ids are prompt_token_ids followed by output_token_ids).
  int num_computed_tokens = 0;
  int num_new_tokens = 0;
  // The request's whole table after allocation: token at position p lives in slot
  // block_table[p / block_size] * block_size + p % block_size.
  std::vector<int> block_table;
  // True when the step ends before the request's last token (num_computed + num_new < num_tokens): a prefill
  // chunk that produces no sample.
  bool is_prefill_chunk = false;
};

struct SchedulerOutput {
  std::vector<ScheduledRequest> scheduled;  // running requests first, then newly admitted ones
  int total_num_scheduled_tokens = 0;
  // Copy-on-write: copy every layer's keys and values of block src into block dst, in order, before the forward.
  std::vector<std::pair<int, int>> blocks_to_copy;
  // Requests preempted this step (they lost their blocks and are back in the waiting queue).
  std::vector<std::string> preempted_request_ids;
};

}  // namespace pagedllm
