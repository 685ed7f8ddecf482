#include "train/merge_adapter.h"

#include <map>
#include <vector>

#include "formats/checkpoint_layout.h"
#include "formats/model_folder_writer.h"
#include "formats/peft_adapter.h"
#include "model/checkpoint_entries.h"
#include "model/model_weights.h"
#include "kernels/gemm.h"
#include "train/trainer.h"
#include "util/error.h"

namespace pagedllm {
namespace {

std::string base_format(const MergeOptions& o, const LoraConfig& config, bool& double_quant) {
  if (!o.quantization.empty()) {
    double_quant = o.double_quant;
    return o.quantization;
  }
  double_quant = config.base_double_quant;
  return config.base_quantization.empty() ? "none" : config.base_quantization;
}

}  // namespace

void merge_adapter(const MergeOptions& o) {
  const PeftAdapter adapter = load_peft_adapter(o.adapter_dir);
  bool double_quant = false;
  const std::string format = base_format(o, adapter.config, double_quant);
  const ModelWeights base = load_model_weights(o.model_dir, training_load_options(format, double_quant, false, 0, "float32"));
  const ModelConfig& c = base.config;

  std::map<std::pair<int64_t, int>, const LoraModuleWeights*> by_layer;
  for (const LoraModuleWeights& m : adapter.modules) {
    const int index = find_linear_module(m.module);
    if (index < 0 || m.layer >= c.num_hidden_layers) {
      throw_error(ErrorKind::kInvalidArgument, "{}: module layers.{}.{} is not a linear layer of {}", o.adapter_dir,
                  m.layer, m.module, o.model_dir);
    }
    const WeightMatrix& w = base.layers[m.layer].linear(index);
    if (m.n_in != w.n_in() || m.n_out != w.n_out()) {
      throw_error(ErrorKind::kInvalidArgument, "{}: module layers.{}.{} is ({}, {}) but the layer is ({}, {})",
                  o.adapter_dir, m.layer, m.module, m.n_out, m.n_in, w.n_out(), w.n_in());
    }
    by_layer[{m.layer, index}] = &m;
  }

  const float scale = static_cast<float>(adapter.config.scale());
  const std::vector<SafetensorsEntry> tensors =
      checkpoint_entries(base, [&](int layer, int module, const WeightMatrix& w, std::vector<SafetensorsEntry>& out) {
        const auto it = by_layer.find({layer, module});
        if (it == by_layer.end()) {
          out.push_back(dequantized_entry(tensor_names::linear_weight(layer, module), w));
          return;
        }
        const LoraModuleWeights* lora = it->second;
        out.push_back(dequantized_entry(tensor_names::linear_weight(layer, module), w, [&w, lora, scale](float* rows) {
          // W' = W + scale·B·A
          gemm<float>(false, false, w.n_out(), w.n_in(), lora->rank, scale, lora->B.data(), lora->A.data(), 1.0f,
                      rows);
        }));
      });
  nlohmann::ordered_json config = read_config_json(o.model_dir);
  config["torch_dtype"] = "float32";
  config.erase("quantization_config");
  write_model_folder(o.model_dir, o.output_dir, tensors, config);
}

}  // namespace pagedllm
