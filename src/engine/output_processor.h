// The output side of the engine (vLLM v1's OutputProcessor): turns each sampled token into what the caller sees.
// Per sample: the logprob entries, incremental detokenization, every stop condition (EOS and stop tokens once
// min_tokens is reached, stop strings, max_tokens, the context length, a finished structured output), and the
// hold-back of text that may still turn into a stop string. Per request: RequestOutputs in the caller's OutputKind
// and the request metrics of /metrics.
//
// It knows nothing of blocks, scheduling or sampling: EngineCore tells it of requests, samples and tokens, ends
// in the scheduler whatever it reports finished, and calls emit() once per step for each request it touched.
//
// Thread-safety: none; the engine thread is its only user.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/engine_client.h"
#include "engine/finish_reason.h"
#include "engine/outputs.h"
#include "sampling/sampler.h"
#include "sampling/sampling_params.h"
#include "tokenizer/tokenizer.h"

namespace pagedllm {

class OutputProcessor {
 public:
  // eos_token_ids: sorted. max_model_len: the context limit that ends a sample with "length".
  OutputProcessor(const Tokenizer& tokenizer, std::vector<int32_t> eos_token_ids, int max_model_len);
  ~OutputProcessor();

  // A new request with one sample (index 0) so far; it is counted in prompt_tokens_total.
  void add_request(const std::string& request_id, std::string prompt, std::vector<int32_t> prompt_token_ids,
                   const SamplingParams& params, OutputKind kind, std::function<void(const RequestOutput&)> on_output);
  // Sample `index` of an n > 1 request, started at the fork (its first token then comes through process_token).
  void add_sample(const std::string& request_id, int index);
  // Every sample of the request exists (n == 1, or after the fork): the request may now finish.
  void mark_all_samples_added(const std::string& request_id);

  // Sample `index` produced `sampled`. structure_terminated: its structured output is complete and only EOS may
  // follow. Returns the finish reason when this token ends the sample.
  std::optional<FinishReason> process_token(const std::string& request_id, int index, const SampledToken& sampled,
                                            bool structure_terminated);
  // Ends every unfinished sample of the request with kAbort and returns their indices.
  std::vector<int> abort(const std::string& request_id);

  // Calls the request's on_output with what is new, as its OutputKind asks; when every sample has finished this is
  // the last output, the request's metrics are recorded and it is forgotten. Returns true in that case.
  bool emit(const std::string& request_id);

  bool has_request(const std::string& request_id) const { return requests_.contains(request_id); }
  size_t num_requests() const { return requests_.size(); }
  // Counters and histograms of finished and running requests (the scheduler's gauges are added by EngineCore).
  const EngineStats& stats() const { return stats_; }

 private:
  struct SampleState;
  struct RequestState;
  RequestState& state(const std::string& request_id);
  std::string token_text(int32_t previous, int32_t token) const;
  CompletionOutput completion(const RequestState& request, SampleState& sample, size_t holdback) const;

  const Tokenizer& tokenizer_;
  std::vector<int32_t> eos_token_ids_;
  int max_model_len_;
  std::map<std::string, std::unique_ptr<RequestState>> requests_;
  EngineStats stats_;
};

}  // namespace pagedllm
