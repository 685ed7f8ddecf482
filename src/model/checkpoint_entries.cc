#include "model/checkpoint_entries.h"

#include "formats/checkpoint_layout.h"

namespace pagedllm {
namespace {

void add_vector(std::vector<SafetensorsEntry>& out, std::string name, const std::vector<float>& v) {
  if (!v.empty()) out.push_back(safetensors_entry(std::move(name), "F32", {static_cast<int64_t>(v.size())}, v.data()));
}

}  // namespace

SafetensorsEntry dequantized_entry(std::string name, const WeightMatrix& w, std::function<void(float* rows)> add_to_rows) {
  SafetensorsEntry e;
  e.name = std::move(name);
  e.dtype = "F32";
  e.shape = {w.n_out(), w.n_in()};
  e.num_bytes = static_cast<size_t>(w.n_out() * w.n_in()) * sizeof(float);
  e.write_data = [&w, add_to_rows = std::move(add_to_rows)](const ByteSink& sink) {
    std::vector<float> rows(static_cast<size_t>(w.n_out() * w.n_in()));
    for (int64_t r = 0; r < w.n_out(); ++r) w.dequantize_row(r, rows.data() + r * w.n_in());
    if (add_to_rows) add_to_rows(rows.data());
    sink(rows.data(), rows.size() * sizeof(float));
  };
  return e;
}

std::vector<SafetensorsEntry> checkpoint_entries(const ModelWeights& weights, const LinearEntries& linear_entries) {
  std::vector<SafetensorsEntry> out;
  out.push_back(dequantized_entry(tensor_names::kEmbedTokens, *weights.embed_tokens));
  for (int l = 0; l < weights.config.num_hidden_layers; ++l) {
    const LayerWeights& layer = weights.layers[l];
    add_vector(out, tensor_names::input_layernorm(l), layer.input_layernorm);
    add_vector(out, tensor_names::post_attention_layernorm(l), layer.post_attention_layernorm);
    for (int m = 0; m < kNumLinearModules; ++m) {
      add_vector(out, tensor_names::linear_bias(l, m), layer.biases[m]);
      linear_entries(l, m, layer.linear(m), out);
    }
  }
  add_vector(out, tensor_names::kFinalNorm, weights.norm);
  if (!is_lm_head_tied(weights.config)) out.push_back(dequantized_entry(tensor_names::kLmHead, *weights.lm_head));
  return out;
}

}  // namespace pagedllm
