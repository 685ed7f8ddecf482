// JSON shapes of engine results, shared by `generate --json` and tests: RequestOutput as vLLM prints it, with
// logprobs as a list (one entry per generated token) of {"<token_id>": logprob} maps.
#pragma once

#include <nlohmann/json.hpp>

#include "engine/outputs.h"
#include "sampling/sampling_params.h"

namespace pagedllm {

nlohmann::json request_output_to_json(const RequestOutput& output);

// Reads the optional per-prompt sampling fields of a --prompts-file line (vLLM names) over `params`.
// Throws Error(kInvalidArgument) naming a field of the wrong type.
void apply_sampling_fields(const nlohmann::json& fields, SamplingParams& params);

}  // namespace pagedllm
