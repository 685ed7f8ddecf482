#include "engine/engine_args.h"

namespace pagedllm {

WeightLoadOptions weight_load_options(const EngineArgs& args) {
  WeightLoadOptions load;
  load.dtype = args.dtype;
  load.dummy = args.load_format == "dummy";
  load.dummy_seed = args.seed;
  load.kv_cache_dtype = args.kv_cache_dtype;
  load.transform_linear = make_quantize_transform(args.quantization, args.double_quant, args.quant_block_size);
  if (args.quantize_lm_head) load.transform_lm_head = load.transform_linear;
  return load;
}

}  // namespace pagedllm
