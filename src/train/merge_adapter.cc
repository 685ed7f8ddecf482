#include "train/merge_adapter.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <nlohmann/json.hpp>
#include <vector>

#include "model/model_weights.h"
#include "util/atomic_file.h"
#include "train/gemm.h"
#include "train/lora_llama.h"
#include "train/peft_adapter.h"
#include "formats/safetensors_writer.h"
#include "train/trainer.h"
#include "util/error.h"
#include "util/mapped_file.h"

namespace pagedllm {
namespace {

// Files of a model folder besides its weights that a merged folder needs to be served as the base is.
constexpr const char* kCopiedFiles[] = {"tokenizer.json",          "tokenizer.model",   "tokenizer_config.json",
                                        "special_tokens_map.json", "generation_config.json", "chat_template.jinja",
                                        "vocab.json",              "merges.txt"};

// An F32 tensor computed when the writer asks for its bytes: W (n_out, n_in) row by row, plus the adapter's delta.
SafetensorsEntry matrix_entry(const std::string& name, const WeightMatrix& w, const LoraModuleWeights* lora,
                              double scale) {
  SafetensorsEntry e;
  e.name = name;
  e.dtype = "F32";
  e.shape = {w.n_out(), w.n_in()};
  e.num_bytes = static_cast<size_t>(w.n_out() * w.n_in()) * sizeof(float);
  e.write_data = [&w, lora, scale](const ByteSink& sink) {
    std::vector<float> rows(static_cast<size_t>(w.n_out() * w.n_in()));
    for (int64_t r = 0; r < w.n_out(); ++r) w.dequantize_row(r, rows.data() + r * w.n_in());
    if (lora != nullptr) {
      gemm<float>(false, false, w.n_out(), w.n_in(), lora->rank, static_cast<float>(scale), lora->B.data(),
                  lora->A.data(), 1.0f, rows.data());
    }
    sink(rows.data(), rows.size() * sizeof(float));
  };
  return e;
}

void add_vector(std::vector<SafetensorsEntry>& out, const std::string& name, const std::vector<float>& v) {
  if (!v.empty()) out.push_back(safetensors_entry(name, "F32", {static_cast<int64_t>(v.size())}, v.data()));
}

std::string base_format(const MergeOptions& o, const LoraConfig& config, bool& double_quant) {
  if (!o.quantization.empty()) {
    double_quant = o.double_quant;
    return o.quantization;
  }
  double_quant = config.base_double_quant;
  return config.base_quantization.empty() ? "none" : config.base_quantization;
}

void write_config(const std::string& model_dir, const std::string& output_dir) {
  nlohmann::json config;
  const std::string path = model_dir + "/config.json";
  try {
    config = nlohmann::json::parse(read_text_file(path));
  } catch (const nlohmann::json::exception& e) {
    throw_error(ErrorKind::kCorrupt, "{}: {}", path, e.what());
  }
  config["torch_dtype"] = "float32";
  config.erase("quantization_config");
  write_file_atomically(output_dir + "/config.json", config.dump(2) + "\n");
}

}  // namespace

void merge_adapter(const MergeOptions& o) {
  const PeftAdapter adapter = load_peft_adapter(o.adapter_dir);
  bool double_quant = false;
  const std::string format = base_format(o, adapter.config, double_quant);
  const ModelWeights base = load_model_weights(o.model_dir, training_load_options(format, double_quant, false, 0));
  const ModelConfig& c = base.config;

  std::map<std::pair<int64_t, int>, const LoraModuleWeights*> by_layer;
  for (const LoraModuleWeights& m : adapter.modules) {
    const int index = block_linear_index(m.module);
    if (index < 0 || m.layer >= c.num_hidden_layers) {
      throw_error(ErrorKind::kInvalidArgument, "{}: module layers.{}.{} is not a linear layer of {}", o.adapter_dir,
                  m.layer, m.module, o.model_dir);
    }
    const WeightMatrix& w = *base.layers[m.layer].linear_layers()[index].second;
    if (m.n_in != w.n_in() || m.n_out != w.n_out()) {
      throw_error(ErrorKind::kInvalidArgument, "{}: module layers.{}.{} is ({}, {}) but the layer is ({}, {})",
                  o.adapter_dir, m.layer, m.module, m.n_out, m.n_in, w.n_out(), w.n_in());
    }
    by_layer[{m.layer, index}] = &m;
  }

  std::vector<SafetensorsEntry> tensors;
  tensors.push_back(matrix_entry("model.embed_tokens.weight", *base.embed_tokens, nullptr, 0.0));
  for (int l = 0; l < c.num_hidden_layers; ++l) {
    const LayerWeights& layer = base.layers[l];
    const std::string prefix = "model.layers." + std::to_string(l) + ".";
    add_vector(tensors, prefix + "input_layernorm.weight", layer.input_layernorm);
    add_vector(tensors, prefix + "post_attention_layernorm.weight", layer.post_attention_layernorm);
    const auto linears = layer.linear_layers();
    const auto biases = layer.linear_biases();
    for (int m = 0; m < kNumBlockLinears; ++m) {
      add_vector(tensors, prefix + kBlockLinearNames[m] + ".bias", *biases[m]);
      const auto it = by_layer.find({l, m});
      tensors.push_back(matrix_entry(prefix + kBlockLinearNames[m] + ".weight", *linears[m].second,
                                     it == by_layer.end() ? nullptr : it->second, adapter.config.scale()));
    }
  }
  add_vector(tensors, "model.norm.weight", base.norm);
  if (!c.tie_word_embeddings) tensors.push_back(matrix_entry("lm_head.weight", *base.lm_head, nullptr, 0.0));

  if (::mkdir(o.output_dir.c_str(), 0755) != 0 && errno != EEXIST) {
    throw_error(ErrorKind::kIo, "cannot create folder {}: {}", o.output_dir, std::strerror(errno));
  }
  write_safetensors(o.output_dir + "/model.safetensors", tensors, {{"format", "pt"}});
  write_config(o.model_dir, o.output_dir);
  for (const char* name : kCopiedFiles) {
    const std::string src = o.model_dir + "/" + name;
    if (file_exists(src)) write_file_atomically(o.output_dir + "/" + name, read_text_file(src));
  }
}

}  // namespace pagedllm
