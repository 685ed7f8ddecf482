// EngineCore: the serving loop of one model, driven one step at a time by its owner (LLM for offline use,
// AsyncEngine for the server). Each step: Scheduler.schedule() → ModelRunner (ids and block tables only) →
// Sampler (with each sample's generator, structured-output mask and min_tokens suppression) →
// Scheduler.update_from_output → OutputProcessor (detokenization, stop conditions, RequestOutput callbacks) →
// the samples it reports finished are finished in the scheduler.
//
// A request with n > 1 samples is one "group": its prompt is computed once, then the group forks into n
// sequences that share the prompt's KV blocks by reference count (copy-on-write for a shared partial block).
//
// Thread-safety: none; one thread calls every method (AsyncEngine serializes access).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "engine/engine_args.h"
#include "engine/engine_client.h"
#include "engine/model_runner.h"
#include "engine/output_processor.h"
#include "engine/outputs.h"
#include "engine/scheduler.h"
#include "kvcache/kv_cache_manager.h"
#include "model/llama_model.h"
#include "model/lora_adapters.h"
#include "model/paged_kv_cache.h"
#include "sampling/sampling_params.h"
#include "structured/structured_output.h"
#include "tokenizer/tokenizer.h"
#include "util/rng.h"

namespace pagedllm {

struct RequestGroup;
struct SequenceState;

class EngineCore {
 public:
  explicit EngineCore(const EngineArgs& args);
  ~EngineCore();

  // Validates and queues a request (see EngineClient::add_request for the error contract).
  void add_request(const std::string& request_id, const PromptInput& prompt, const SamplingParams& params,
                   OutputKind kind, const std::string& lora_name, std::function<void(const RequestOutput&)> on_output);
  // Finishes the request's sequences with finish_reason "abort" and frees their blocks now.
  void abort_request(const std::string& request_id);
  void abort_all();

  bool has_unfinished_requests() const;
  void step();

  EngineStats stats() const;
  const Tokenizer& tokenizer() const { return *tokenizer_; }
  const LlamaModel& model() const { return *model_; }
  int max_model_len() const { return max_model_len_; }
  std::vector<std::string> lora_names() const { return loras_.names(); }
  // Loads a PEFT adapter at run time (vLLM's LoRARequest) under `name`; call between steps. Throws
  // Error(kInvalidArgument) past max_loras or for a duplicate name, and load_peft_adapter's errors.
  void add_lora(const std::string& name, const std::string& dir);
  int num_kv_blocks() const { return num_kv_blocks_; }
  int num_free_kv_blocks() const;
  int peak_kv_blocks_used() const { return peak_blocks_used_; }
  void reset_prefix_cache();
  // The structured-output compiler (thread-safe, LRU-cached by constraint text), built on first use: its
  // vocabulary trie costs a pass over the vocabulary. Callers on other threads compile with it before adding a
  // request (StructuredOutputsParams::compiled), so compilation stays off the engine thread.
  StructuredOutputCompiler& structured_outputs();

 private:
  void sample(const SchedulerOutput& output, const std::vector<int>& sample_rows);
  // Starts samples 1..n-1 of an n > 1 request from the logits of its first sample.
  void fork_group(RequestGroup& group, SequenceState& parent, float* logits,
                  std::vector<std::pair<std::string, FinishReason>>& finished);
  // Hands a sampled token to the output processor; the sample's finish, if any, is recorded in `finished`.
  void process_token(SequenceState& seq, const struct SampledToken& sampled,
                     std::vector<std::pair<std::string, FinishReason>>& finished);
  void finish_in_scheduler(const std::vector<std::pair<std::string, FinishReason>>& finished);
  // Drops a request whose last output went out.
  void forget_group(const std::string& request_id);
  std::vector<int32_t> suppressed_tokens(const SequenceState& seq) const;

  EngineArgs args_;
  std::unique_ptr<Tokenizer> tokenizer_;
  std::unique_ptr<LlamaModel> model_;
  std::unique_ptr<PagedKVCache> kv_cache_;
  std::unique_ptr<KVCacheManager> kv_manager_;
  std::unique_ptr<Scheduler> scheduler_;
  std::unique_ptr<WorkerLink> workers_;  // rank 0 of a tensor-parallel run: the other ranks
  std::unique_ptr<ModelRunner> runner_;
  LoraManager loras_;
  int max_model_len_ = 0;
  int num_kv_blocks_ = 0;
  std::vector<int32_t> eos_token_ids_;
  Rng seed_rng_;

  std::unique_ptr<OutputProcessor> outputs_;
  std::map<std::string, std::unique_ptr<RequestGroup>> groups_;  // by user request id
  std::map<std::string, SequenceState*> sequences_;                   // by internal request id
  int peak_blocks_used_ = 0;
  std::once_flag structured_outputs_once_;
  std::unique_ptr<StructuredOutputCompiler> structured_outputs_;
};

}  // namespace pagedllm
