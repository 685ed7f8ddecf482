// One generation request as the scheduler sees it: token ids and progress counters. The engine creates it (id,
// prompt, max_tokens, lora_id), owns it through std::shared_ptr<Request> and keeps whatever else it needs
// (sampling parameters, detokenizer state) beside it. Once added, only the Scheduler writes it: arrival_seq,
// num_computed_tokens, status, the preemption counters, and output_token_ids (update_from_output).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "kvcache/block_hash.h"

namespace pagedllm {

enum class RequestStatus {
  kWaiting,                // queued, never scheduled
  kRunning,                // holds KV blocks and is scheduled every step it gets budget
  kPreempted,              // lost its blocks; back in the waiting queue, recomputes prompt + output on resume
  kFinishedStopped,        // EOS, a stop token or a stop string
  kFinishedLengthCapped,   // max_tokens (or max_model_len) reached
  kFinishedAborted,        // cancelled by the client
};

const char* request_status_name(RequestStatus status);
bool is_finished_status(RequestStatus status);

struct Request {
  std::string request_id;
  // FCFS order, assigned by the scheduler when the request is added or forked. Preemption takes the running
  // request with the largest arrival_seq.
  uint64_t arrival_seq = 0;
  std::vector<int32_t> prompt_token_ids;
  std::vector<int32_t> output_token_ids;
  // Tokens whose keys and values are in the KV cache: [0, num_computed_tokens). Always < num_tokens() between
  // steps for a running request (the newest token is computed in the next step).
  int num_computed_tokens = 0;
  int max_tokens = 16;  // cap on output tokens
  int lora_id = 0;      // 0 = no adapter; part of the prefix-cache key
  RequestStatus status = RequestStatus::kWaiting;
  int num_preemptions = 0;
  int num_cached_tokens = 0;  // prefix-cache hit length when first scheduled

  int num_tokens() const { return static_cast<int>(prompt_token_ids.size() + output_token_ids.size()); }
  int num_prompt_tokens() const { return static_cast<int>(prompt_token_ids.size()); }
  int num_output_tokens() const { return static_cast<int>(output_token_ids.size()); }
  bool is_finished() const { return is_finished_status(status); }
  TokenSequence tokens() const { return TokenSequence{prompt_token_ids, output_token_ids}; }
};

}  // namespace pagedllm
