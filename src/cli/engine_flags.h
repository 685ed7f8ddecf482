// Command-line flags shared by every command that builds an engine (generate, serve, bench, perplexity), with
// vLLM's flag names, and the sampling flags of generate.
#pragma once

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

#include "engine/engine_args.h"
#include "sampling/sampling_params.h"

namespace pagedllm {

struct EngineFlags {
  EngineArgs args;
  std::vector<std::string> loras;  // NAME=DIR
  // Parses --lora NAME=DIR entries into args.loras; throws Error(kInvalidArgument) on a malformed entry.
  EngineArgs resolve() const;
};

void add_engine_flags(CLI::App& app, EngineFlags& flags);
void add_sampling_flags(CLI::App& app, SamplingParams& params);

}  // namespace pagedllm
