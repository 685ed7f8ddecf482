// Command-line flags shared by every command that builds an engine (generate, serve, bench, perplexity), with
// vLLM's flag names, and the sampling flags of generate.
#pragma once

#include <CLI/CLI.hpp>

#include <string>
#include <utility>
#include <vector>

#include "engine/engine_args.h"
#include "sampling/sampling_params.h"

namespace pagedllm {

struct EngineFlags {
  EngineArgs args;
  std::vector<std::string> loras;  // NAME=DIR or DIR
  // Checks --model (check_model_folder) and the parallel sizes (check_parallel_sizes), and parses the --lora entries
  // into args.loras; throws Error on a missing model folder, a size that does not match mpirun's or a malformed entry.
  EngineArgs resolve() const;
};

// One --lora argument as (name, folder): "NAME=DIR" as vLLM takes it, or a bare "DIR" (as `merge` takes it) named
// after the folder's last component. Throws Error(kInvalidArgument) for an empty NAME or DIR.
std::pair<std::string, std::string> parse_lora_arg(const std::string& entry);

void add_engine_flags(CLI::App& app, EngineFlags& flags);
// vLLM's short spellings -tp N and -pp N, which CLI11 cannot declare (its short names are one letter), rewritten in
// place to --tensor-parallel-size / --pipeline-parallel-size before parsing.
void expand_parallel_short_flags(int argc, char** argv);
// An on/off flag, `--NAME` and `--no-NAME`, whose --help line shows its default (HelpFormatter).
CLI::Option* add_switch(CLI::App& app, const std::string& name, bool& value, const std::string& description);
void add_sampling_flags(CLI::App& app, SamplingParams& params);

}  // namespace pagedllm
