#include "engine/engine_args.h"

#include "quant/quantize.h"

namespace pagedllm {

WeightLoadOptions weight_load_options(const EngineArgs& args) {
  WeightLoadOptions load;
  load.dtype = args.dtype;
  load.dummy = args.load_format == "dummy";
  load.dummy_seed = args.seed;
  if (!args.quantization.empty() && args.quantization != "none") {
    QuantConfig q;
    q.format = parse_weight_format(args.quantization);
    q.double_quant = args.double_quant;
    load.transform_linear = [q](const std::string&, const float* data, int64_t n_out, int64_t n_in) -> std::unique_ptr<WeightMatrix> {
      // Q8_0 blocks are 32 wide (as GGUF defines them); a row that is not a whole number of blocks stays as loaded.
      if (q.format == WeightFormat::kQ8_0 && n_in % 32 != 0) return nullptr;
      return quantize_weight(data, n_out, n_in, q);
    };
    if (args.quantize_lm_head) load.transform_lm_head = load.transform_linear;
  }
  return load;
}

}  // namespace pagedllm
