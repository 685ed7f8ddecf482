#include "engine/llm.h"

#include "util/error.h"

namespace pagedllm {

LLM::LLM(const EngineArgs& args) : engine_(std::make_unique<EngineCore>(args)) {}

std::vector<RequestOutput> LLM::generate(const std::vector<std::string>& prompts, const SamplingParams& params) {
  std::vector<PromptInput> inputs;
  for (const auto& p : prompts) inputs.push_back(PromptInput{p, {}, true});
  return generate(inputs, std::vector<SamplingParams>(prompts.size(), params));
}

std::vector<RequestOutput> LLM::generate(const std::vector<PromptInput>& prompts, const std::vector<SamplingParams>& params,
                                         const std::vector<std::string>& lora_names) {
  PAGEDLLM_CHECK(params.size() == prompts.size());
  PAGEDLLM_CHECK(lora_names.empty() || lora_names.size() == prompts.size());
  std::vector<RequestOutput> results(prompts.size());
  std::vector<std::string> ids;
  try {
    for (size_t i = 0; i < prompts.size(); ++i) {
      std::string id = std::to_string(next_request_id_++);
      engine_->add_request(id, prompts[i], params[i], OutputKind::kFinalOnly, lora_names.empty() ? "" : lora_names[i],
                           [&results, i](const RequestOutput& out) { results[i] = out; });
      ids.push_back(id);
    }
  } catch (...) {
    // A bad prompt rejects the whole call, as in vLLM; the ones already queued are withdrawn.
    for (const auto& id : ids) engine_->abort_request(id);
    throw;
  }
  while (engine_->has_unfinished_requests()) engine_->step();
  return results;
}

}  // namespace pagedllm
