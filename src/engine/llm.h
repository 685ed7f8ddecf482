// The offline API, as vLLM's LLM class:
//   pagedllm::LLM llm(EngineArgs{.model = "models/stories260K"});
//   std::vector<RequestOutput> outs = llm.generate({"Once upon a time"}, SamplingParams{.temperature = 0});
// All prompts are submitted at once and batched continuously; results come back in input order.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "engine/engine_args.h"
#include "engine/engine_client.h"
#include "engine/engine_core.h"

namespace pagedllm {

class LLM {
 public:
  explicit LLM(const EngineArgs& args);

  std::vector<RequestOutput> generate(const std::vector<std::string>& prompts, const SamplingParams& params);
  // One SamplingParams (and LoRA name, "" for none) per prompt; lora_names may be empty.
  std::vector<RequestOutput> generate(const std::vector<PromptInput>& prompts, const std::vector<SamplingParams>& params,
                                      const std::vector<std::string>& lora_names = {});

  EngineCore& engine() { return *engine_; }

 private:
  std::unique_ptr<EngineCore> engine_;
  uint64_t next_request_id_ = 0;
};

}  // namespace pagedllm
