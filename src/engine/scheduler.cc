#include "engine/scheduler.h"

#include <algorithm>

#include "util/error.h"

namespace pagedllm {
namespace {

// An entry of the step's output; schedule() fills in the rest once the step's allocations are final.
ScheduledRequest scheduled_request(const Request& request, int num_new_tokens) {
  ScheduledRequest s;
  s.request_id = request.request_id;
  s.num_new_tokens = num_new_tokens;
  return s;
}

}  // namespace

Scheduler::Scheduler(const SchedulerConfig& config, KVCacheManager& kv_cache_manager)
    : config_(config), kv_(kv_cache_manager) {
  if (config.max_num_seqs < 1 || config.max_num_batched_tokens < 1 || config.max_model_len < 1 ||
      config.long_prefill_token_threshold < 0) {
    throw_error(ErrorKind::kInvalidArgument,
                "--max-num-seqs ({}), --max-num-batched-tokens ({}) and --max-model-len ({}) must be positive, "
                "long_prefill_token_threshold ({}) non-negative",
                config.max_num_seqs, config.max_num_batched_tokens, config.max_model_len,
                config.long_prefill_token_threshold);
  }
  if (config.block_size != kv_.block_size()) {
    throw_error(ErrorKind::kInvalidArgument, "scheduler: block_size {} differs from the KV cache's {}",
                config.block_size, kv_.block_size());
  }
  const int64_t capacity = static_cast<int64_t>(kv_.num_blocks()) * kv_.block_size();
  if (capacity < config.max_model_len) {
    throw_error(ErrorKind::kInvalidArgument,
                "the KV cache ({} blocks of {} tokens) holds {} tokens, less than --max-model-len {}; "
                "lower --max-model-len to at most {} or give the cache more memory",
                kv_.num_blocks(), kv_.block_size(), capacity, config.max_model_len, capacity);
  }
  if (!config.enable_chunked_prefill && config.max_num_batched_tokens < config.max_model_len) {
    throw_error(ErrorKind::kInvalidArgument,
                "--max-num-batched-tokens ({}) is smaller than --max-model-len ({}) without chunked prefill",
                config.max_num_batched_tokens, config.max_model_len);
  }
}

void Scheduler::add_request(std::shared_ptr<Request> request) {
  PAGEDLLM_CHECK(request != nullptr);
  const Request& r = *request;
  if (r.prompt_token_ids.empty()) {
    throw_error(ErrorKind::kInvalidArgument, "the prompt is empty (it must contain at least one token)");
  }
  if (r.max_tokens < 1) {
    throw_error(ErrorKind::kInvalidArgument, "request {}: max_tokens must be at least 1, got {}", r.request_id,
                r.max_tokens);
  }
  if (static_cast<int64_t>(r.num_prompt_tokens()) + r.max_tokens > config_.max_model_len) {
    // OpenAI's and vLLM's words, which clients show as they are.
    throw_error(ErrorKind::kInvalidArgument,
                "This model's maximum context length is {} tokens. However, you requested {} tokens ({} in the "
                "messages, {} in the completion). Please reduce the length of the messages or completion.",
                config_.max_model_len, int64_t(r.num_prompt_tokens()) + r.max_tokens, r.num_prompt_tokens(),
                r.max_tokens);
  }
  if (unfinished_.contains(r.request_id) || kv_.has_request(r.request_id)) {
    throw_error(ErrorKind::kInvalidArgument, "request {}: request_id already in use", r.request_id);
  }
  PAGEDLLM_CHECK_MSG(r.output_token_ids.empty() && r.num_computed_tokens == 0 && r.status == RequestStatus::kWaiting,
                     "add_request: request {} is not new", r.request_id);
  request->arrival_seq = next_arrival_seq_++;
  unfinished_.emplace(r.request_id, request);
  waiting_.push_back(std::move(request));
}

SchedulerOutput Scheduler::schedule() {
  SchedulerOutput output;
  int budget = config_.max_num_batched_tokens;
  schedule_running(output, budget);
  if (output.preempted_request_ids.empty()) schedule_waiting(output, budget);
  PAGEDLLM_CHECK_MSG(!output.scheduled.empty() || !has_unfinished_requests(),
                     "scheduler made no progress with {} running and {} waiting requests", running_.size(),
                     waiting_.size());
  output.blocks_to_copy = kv_.take_pending_copies();
  for (ScheduledRequest& s : output.scheduled) {
    const Request& r = *unfinished_.at(s.request_id);
    s.lora_id = r.lora_id;
    s.num_computed_tokens = r.num_computed_tokens;
    const TokenSequence tokens = r.tokens();
    s.token_ids.resize(s.num_new_tokens);
    for (int i = 0; i < s.num_new_tokens; ++i) s.token_ids[i] = tokens[r.num_computed_tokens + i];
    s.block_table = kv_.block_table(r.request_id);
    s.is_prefill_chunk = r.num_computed_tokens + s.num_new_tokens < r.num_tokens();
    output.total_num_scheduled_tokens += s.num_new_tokens;
  }
  return output;
}

// How many tokens `request` computes this step if it starts at num_computed_tokens; 0 = it must wait.
int Scheduler::num_tokens_to_schedule(const Request& request, int num_computed_tokens, int budget) const {
  int num_new = request.num_tokens() - num_computed_tokens;
  if (!config_.enable_chunked_prefill) return num_new <= budget ? num_new : 0;
  if (config_.long_prefill_token_threshold > 0) num_new = std::min(num_new, config_.long_prefill_token_threshold);
  return std::min(num_new, budget);
}

void Scheduler::schedule_running(SchedulerOutput& output, int& budget) {
  const size_t max_scheduled = static_cast<size_t>(config_.max_num_seqs);
  size_t i = 0;
  while (i < running_.size() && budget > 0 && output.scheduled.size() < max_scheduled) {
    std::shared_ptr<Request> request = running_[i];
    const int num_new = num_tokens_to_schedule(*request, request->num_computed_tokens, budget);
    if (num_new == 0) {
      ++i;
      continue;
    }
    bool is_preempted = false;
    while (!kv_.allocate_slots(request->request_id, request->num_computed_tokens, num_new)) {
      const size_t victim = latest_running_index();
      preempt(victim, output, budget);
      is_preempted = victim == i;
      if (is_preempted) break;  // the request itself was the latest; running_[i] is now the next request
      if (victim < i) --i;
    }
    if (is_preempted) continue;
    output.scheduled.push_back(scheduled_request(*request, num_new));
    budget -= num_new;
    ++i;
  }
}

void Scheduler::schedule_waiting(SchedulerOutput& output, int& budget) {
  const size_t max_seqs = static_cast<size_t>(config_.max_num_seqs);
  while (!waiting_.empty() && budget > 0 && running_.size() < max_seqs && output.scheduled.size() < max_seqs) {
    std::shared_ptr<Request> request = waiting_.front();
    const ComputedBlocks hit = kv_.get_computed_blocks(request->tokens(), request->lora_id);
    const int num_new = num_tokens_to_schedule(*request, hit.num_computed_tokens, budget);
    if (num_new == 0) break;
    if (!kv_.allocate_slots(request->request_id, hit.num_computed_tokens, num_new, hit.block_ids)) break;
    if (kv_.is_prefix_caching_enabled()) kv_.record_prefix_cache_lookup(request->num_tokens(), hit.num_computed_tokens);
    waiting_.pop_front();
    request->num_computed_tokens = hit.num_computed_tokens;
    if (request->num_preemptions == 0) request->num_cached_tokens = hit.num_computed_tokens;
    request->status = RequestStatus::kRunning;
    running_.push_back(request);
    output.scheduled.push_back(scheduled_request(*request, num_new));
    budget -= num_new;
  }
}

size_t Scheduler::latest_running_index() const {
  PAGEDLLM_CHECK(!running_.empty());
  size_t latest = 0;
  for (size_t i = 1; i < running_.size(); ++i) {
    if (running_[i]->arrival_seq > running_[latest]->arrival_seq) latest = i;
  }
  return latest;
}

// Frees the victim's blocks and queues it first in line; if it was already scheduled this step, takes that back.
void Scheduler::preempt(size_t running_index, SchedulerOutput& output, int& budget) {
  std::shared_ptr<Request> victim = running_[running_index];
  running_.erase(running_.begin() + static_cast<std::ptrdiff_t>(running_index));
  auto scheduled = std::find_if(output.scheduled.begin(), output.scheduled.end(),
                                [&](const ScheduledRequest& s) { return s.request_id == victim->request_id; });
  if (scheduled != output.scheduled.end()) {
    budget += scheduled->num_new_tokens;
    output.scheduled.erase(scheduled);
  }
  kv_.free(victim->request_id);
  victim->status = RequestStatus::kPreempted;
  victim->num_computed_tokens = 0;
  ++victim->num_preemptions;
  ++num_preemptions_total_;
  output.preempted_request_ids.push_back(victim->request_id);
  waiting_.push_front(std::move(victim));
}

void Scheduler::update_from_output(const SchedulerOutput& output,
                                   const std::map<std::string, std::vector<int32_t>>& sampled) {
  for (const ScheduledRequest& s : output.scheduled) {
    auto unfinished = unfinished_.find(s.request_id);
    if (unfinished == unfinished_.end()) continue;  // finished since schedule()
    Request& request = *unfinished->second;
    PAGEDLLM_CHECK_MSG(request.status == RequestStatus::kRunning && request.num_computed_tokens == s.num_computed_tokens,
                       "request {} changed between schedule() and update_from_output()", request.request_id);
    request.num_computed_tokens += s.num_new_tokens;
    kv_.cache_blocks(request.request_id, request.tokens(), request.lora_id, request.num_computed_tokens);
    auto it = sampled.find(request.request_id);
    const bool has_sample = it != sampled.end() && !it->second.empty();
    PAGEDLLM_CHECK_MSG(has_sample != s.is_prefill_chunk, "request {}: {} after a {}", request.request_id,
                       has_sample ? "sampled tokens" : "no sampled token",
                       s.is_prefill_chunk ? "prefill chunk" : "step that reached its last token");
    if (has_sample) {
      request.output_token_ids.insert(request.output_token_ids.end(), it->second.begin(), it->second.end());
    }
  }
}

void Scheduler::fork_request(const std::string& parent_id, std::shared_ptr<Request> child) {
  PAGEDLLM_CHECK(child != nullptr);
  auto parent_it = unfinished_.find(parent_id);
  PAGEDLLM_CHECK_MSG(parent_it != unfinished_.end() && parent_it->second->status == RequestStatus::kRunning,
                     "fork_request: parent {} is not running", parent_id);
  const Request& parent = *parent_it->second;
  PAGEDLLM_CHECK_MSG(!unfinished_.contains(child->request_id) && !kv_.has_request(child->request_id),
                     "fork_request: request_id {} already in use", child->request_id);
  PAGEDLLM_CHECK_MSG(child->prompt_token_ids == parent.prompt_token_ids && child->lora_id == parent.lora_id,
                     "fork_request: child {} must have the prompt and adapter of {}", child->request_id, parent_id);
  const int num_computed = parent.num_computed_tokens;
  PAGEDLLM_CHECK_MSG(child->num_tokens() > num_computed, "fork_request: child {} has {} tokens, parent computed {}",
                     child->request_id, child->num_tokens(), num_computed);
  PAGEDLLM_CHECK_MSG(child->num_prompt_tokens() + child->max_tokens <= config_.max_model_len,
                     "fork_request: child {} prompt + max_tokens exceeds max_model_len", child->request_id);
  const TokenSequence parent_tokens = parent.tokens();
  const TokenSequence child_tokens = child->tokens();
  for (int p = parent.num_prompt_tokens(); p < num_computed; ++p) {
    PAGEDLLM_CHECK_MSG(parent_tokens[p] == child_tokens[p], "fork_request: child {} differs from {} at computed "
                       "position {}", child->request_id, parent_id, p);
  }
  kv_.fork(parent_id, child->request_id);
  child->arrival_seq = next_arrival_seq_++;
  child->num_computed_tokens = num_computed;
  child->num_cached_tokens = parent.num_cached_tokens;
  child->status = RequestStatus::kRunning;
  unfinished_.emplace(child->request_id, child);
  running_.push_back(std::move(child));
}

void Scheduler::finish_requests(const std::vector<std::string>& request_ids, RequestStatus status) {
  PAGEDLLM_CHECK_MSG(is_finished_status(status), "finish_requests with status {}", request_status_name(status));
  for (const std::string& id : request_ids) {
    auto it = unfinished_.find(id);
    if (it == unfinished_.end()) continue;
    std::shared_ptr<Request> request = it->second;
    unfinished_.erase(it);
    std::erase(running_, request);
    std::erase(waiting_, request);
    kv_.free(id);
    request->status = status;
  }
}

}  // namespace pagedllm
