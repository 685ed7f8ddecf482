// The one interface the HTTP server uses to talk to the engine. The engine loop runs on its own thread; these
// methods are thread-safe and never block on model computation.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "engine/outputs.h"
#include "sampling/sampling_params.h"

namespace pagedllm {

class Tokenizer;

// A prompt as text (tokenized by the engine, with the tokenizer's special tokens) or as token ids.
struct PromptInput {
  std::string text;
  std::vector<int32_t> token_ids;  // used when non-empty; `text` is then only echoed back
  bool add_special_tokens = true;
};

// Counters and gauges for /metrics (vLLM's names). Histograms are cumulative bucket counts.
struct Histogram {
  std::vector<double> bounds;     // upper bounds, ascending (the +Inf bucket is implied)
  std::vector<uint64_t> counts;   // counts[i] = observations <= bounds[i]; size bounds.size()
  uint64_t count = 0;             // all observations
  double sum = 0.0;
};

struct EngineStats {
  int num_requests_running = 0;
  int num_requests_waiting = 0;
  double kv_cache_usage = 0.0;  // 0..1, fraction of KV blocks in use
  uint64_t prompt_tokens_total = 0;
  uint64_t generation_tokens_total = 0;
  uint64_t num_preemptions_total = 0;
  std::map<std::string, uint64_t> request_success_total;  // by finish reason: "stop", "length", "abort"
  uint64_t prefix_cache_queries_total = 0;
  uint64_t prefix_cache_hits_total = 0;
  Histogram time_to_first_token_seconds;
  Histogram inter_token_latency_seconds;
  Histogram e2e_request_latency_seconds;
};

class EngineClient {
 public:
  virtual ~EngineClient() = default;

  // Queues a request. `on_output` is called on the engine thread whenever the request has something new, shaped
  // by `kind`; the last call has finished = true (also after abort_request, with finish_reason "abort").
  // Throws Error(kInvalidArgument) for bad params or a prompt that does not fit max_model_len (vLLM's message),
  // Error(kResourceExhausted) when the waiting queue is full, Error(kNotFound) for an unknown LoRA name.
  virtual void add_request(const std::string& request_id, const PromptInput& prompt, const SamplingParams& params,
                           OutputKind kind, const std::string& lora_name,
                           std::function<void(const RequestOutput&)> on_output) = 0;

  // Aborts a queued or running request; its KV blocks return to the pool at the engine's next step boundary
  // (at most one step later), and on_output gets a last call with finish_reason "abort". Unknown ids are ignored.
  virtual void abort_request(const std::string& request_id) = 0;

  virtual EngineStats stats() const = 0;
  virtual const Tokenizer& tokenizer() const = 0;
  virtual int max_model_len() const = 0;
  virtual std::vector<std::string> lora_names() const = 0;
  virtual bool is_alive() const = 0;
};

}  // namespace pagedllm
