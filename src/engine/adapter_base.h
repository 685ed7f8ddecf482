// Serving a LoRA adapter over the base it was trained against. A QLoRA adapter learns corrections to the 4-bit
// base's outputs; over the fp32 weights it answers differently ("The dog is red." instead of the taught "The dog is
// called Max."). pagedllm's adapters record that base (LoraConfig::base_quantization), so when the user names no
// --quantization the engine quantizes the base as the adapters were trained, and says so.
#pragma once

#include <string>
#include <vector>

#include "engine/engine_args.h"

namespace pagedllm {

// Adjusts args.quantization / args.double_quant to the adapters' recorded base when args.quantization is empty and
// every adapter that records one agrees. Returns one line per decision or mismatch, for the log. Reads only each
// adapter's adapter_config.json; throws Error naming the file when it is missing or corrupt.
std::vector<std::string> match_base_to_adapters(EngineArgs& args);

}  // namespace pagedllm
