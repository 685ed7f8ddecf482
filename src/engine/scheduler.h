// Continuous batching, vLLM v1 style: there is no prefill phase nor decode phase. Each request has
// num_computed_tokens and num_tokens (prompt + output so far); every step gives each request up to
// num_tokens - num_computed_tokens new tokens under one token budget, so prompts (possibly in chunks) and
// decodes share a batch.
//
// One step: schedule() -> model runner computes the SchedulerOutput -> update_from_output() with the sampled
// tokens -> the engine checks stop conditions and calls finish_requests(). Order within schedule():
//   1. running requests, in running order; when one cannot get its blocks, the running request with the latest
//      arrival is preempted (blocks freed, num_computed_tokens = 0, pushed to the FRONT of waiting; it resumes
//      by recomputing prompt + output, its output tokens kept), repeatedly, until the allocation succeeds or the
//      request itself was the latest and is preempted;
//   2. if nothing was preempted: waiting requests in FCFS order while budget, max_num_seqs and blocks allow;
//      the head of the queue blocks the ones behind it.
//
// Admission contract (checked, Error(kInvalidArgument)): the KV cache holds at least max_model_len tokens, and
// every request satisfies prompt + max_tokens <= max_model_len. Together they guarantee progress: the
// earliest-arrived running request is never preempted while others run, and alone it always fits, so every
// step schedules at least one request (a CHECK) and no request waits forever.
// Not thread-safe: the engine loop is the only user.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "engine/request.h"
#include "engine/scheduler_config.h"
#include "engine/scheduler_output.h"
#include "kvcache/kv_cache_manager.h"

namespace pagedllm {

class Scheduler {
 public:
  // Throws Error(kInvalidArgument) for limits that could never schedule a max_model_len request.
  Scheduler(const SchedulerConfig& config, KVCacheManager& kv_cache_manager);

  // Queues a new request (status kWaiting, no output, nothing computed) at the back of the waiting queue and
  // assigns its arrival_seq. Throws Error(kInvalidArgument) for an empty prompt, max_tokens < 1,
  // prompt + max_tokens > max_model_len, or a request_id already in use.
  void add_request(std::shared_ptr<Request> request);

  SchedulerOutput schedule();

  // After the forward of `output` (the latest schedule()): advances each scheduled request's
  // num_computed_tokens by its num_new_tokens, offers its newly computed full blocks to the prefix cache, and
  // appends `sampled[request_id]` to its output. Every request scheduled to its last token must have sampled
  // tokens and no prefill chunk may (CHECK). Requests finished since schedule() are skipped.
  void update_from_output(const SchedulerOutput& output, const std::map<std::string, std::vector<int32_t>>& sampled);

  // Starts `child` as a sibling of the running request `parent_id` (parallel sampling): the child shares the
  // parent's blocks (copy-on-write later) and joins the running set with the parent's num_computed_tokens.
  // The child must carry the same prompt, lora_id and tokens up to that point, plus at least one token of its
  // own to compute (e.g. its first sample). Call between update_from_output and the next schedule(), before
  // finishing the parent. The child may take running above max_num_seqs; each step still schedules at most
  // max_num_seqs requests.
  void fork_request(const std::string& parent_id, std::shared_ptr<Request> child);

  // Finishes waiting or running requests with `status` (a finished status): removes them from the queues and
  // frees their blocks. Unknown or already finished ids are ignored.
  void finish_requests(const std::vector<std::string>& request_ids, RequestStatus status);

  int num_running() const { return static_cast<int>(running_.size()); }
  int num_waiting() const { return static_cast<int>(waiting_.size()); }
  bool has_unfinished_requests() const { return !running_.empty() || !waiting_.empty(); }
  uint64_t num_preemptions_total() const { return num_preemptions_total_; }
  KVCacheManager& kv_cache_manager() { return kv_; }
  const SchedulerConfig& config() const { return config_; }

 private:
  int num_tokens_to_schedule(const Request& request, int num_computed_tokens, int budget) const;
  void schedule_running(SchedulerOutput& output, int& budget);
  void schedule_waiting(SchedulerOutput& output, int& budget);
  size_t latest_running_index() const;
  void preempt(size_t running_index, SchedulerOutput& output, int& budget);

  SchedulerConfig config_;
  KVCacheManager& kv_;
  std::vector<std::shared_ptr<Request>> running_;
  std::deque<std::shared_ptr<Request>> waiting_;
  std::unordered_map<std::string, std::shared_ptr<Request>> unfinished_;  // running_ and waiting_ by id
  uint64_t next_arrival_seq_ = 0;
  uint64_t num_preemptions_total_ = 0;
};

}  // namespace pagedllm
