// What one scheduler step hands to the model side: which sequences compute which tokens, through which blocks.
// Plain data (ids, token ids, block tables), no Request objects: the model runner reads only this, and a
// tensor-parallel run can send it to other processes as it is.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace pagedllm {

struct ScheduledRequest {
  std::string request_id;
  int lora_id = 0;  // the request's adapter slot, 0 = none
  // This step computes the tokens at positions [num_computed_tokens, num_computed_tokens + num_new_tokens) of
  // the request (its prompt followed by its output); token_ids holds those num_new_tokens ids.
  int num_computed_tokens = 0;
  int num_new_tokens = 0;
  std::vector<int32_t> token_ids;
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
