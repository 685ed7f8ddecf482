// Writes a model folder whose linear layers are stored 4-bit in bitsandbytes' serialization (packed uint8 weight,
// absmax / nested constants, quant_map, quant_state entry; quantization_config in config.json), loadable by pagedllm
// and by transformers + bitsandbytes. Used by `pagedllm quantize` and by `pagedllm merge --quantization`.
#pragma once

#include <string>

#include "engine/engine_args.h"

namespace pagedllm {

// Loads args.model (quantized while loading with args.quantization: nf4 or fp4, default nf4; args.double_quant) and
// writes the folder `output`. Throws Error(kUnsupported) for a format without a bitsandbytes serialization.
void write_bnb_quantized_model(EngineArgs args, const std::string& output);

}  // namespace pagedllm
