// `pagedllm inspect | perplexity`: what the weights cost in memory, and what quantization costs in quality.
#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>

#include "cli/commands.h"
#include "cli/engine_flags.h"
#include "cli/quantized_model_writer.h"
#include "engine/engine_args.h"
#include "model/llama_model.h"
#include "model/lora_adapters.h"
#include "model/perplexity.h"
#include "quant/bnb_serialization.h"
#include "quant/quantize.h"
#include "formats/safetensors_writer.h"
#include "tokenizer/tokenizer.h"
#include "util/error.h"
#include "util/mapped_file.h"
#include "util/process_memory.h"

namespace pagedllm {
namespace {

struct InspectOptions {
  EngineFlags engine;
};

void run_inspect(const InspectOptions& o) {
  EngineArgs args = o.engine.resolve();
  ModelWeights w = load_model_weights(args.model, weight_load_options(args));
  const ModelConfig& c = w.config;
  size_t quantized_bytes = 0;
  int64_t quantized_params = 0;
  auto row = [](const std::string& name, const WeightMatrix& m) {
    std::cout << fmt::format("{:<48} {:>5} [{}, {}] {:>12} bytes\n", name, weight_format_name(m.format()), m.n_out(), m.n_in(), m.num_bytes());
  };
  row("model.embed_tokens.weight", *w.embed_tokens);
  for (int l = 0; l < c.num_hidden_layers; ++l) {
    for (auto& [name, m] : w.layers[l].linear_layers()) {
      row(fmt::format("model.layers.{}.{}.weight", l, name), *m);
      quantized_bytes += m->num_bytes();
      quantized_params += m->n_out() * m->n_in();
    }
  }
  if (w.lm_head != w.embed_tokens) row("lm_head.weight", *w.lm_head);
  std::cout << fmt::format("total weight bytes: {} ({:.1f} MB), parameters: {}\n", w.num_bytes(), w.num_bytes() / 1e6, c.num_parameters());
  std::cout << fmt::format("linear layers of the blocks: {} parameters, {} bytes, {:.3f} bits/param\n", quantized_params,
                           quantized_bytes, 8.0 * quantized_bytes / quantized_params);
  // Checkpoint pages count while mapped and touched; a quantized model keeps only its packed codes and constants.
  std::cout << fmt::format("resident memory after loading: {:.1f} MB (peak while loading {:.1f} MB)\n",
                           resident_bytes() / 1e6, peak_resident_bytes() / 1e6);
}

struct PerplexityOptions {
  EngineFlags engine;
  std::string file;
  int context = 0;
  int stride = 0;
  std::string lora;
};

void run_perplexity(const PerplexityOptions& o) {
  EngineArgs args = o.engine.resolve();
  std::unique_ptr<Tokenizer> tokenizer = Tokenizer::from_path(args.tokenizer.empty() ? args.model : args.tokenizer);
  LlamaModel model(load_model_weights(args.model, weight_load_options(args)));
  LoraManager loras;
  for (const auto& [name, dir] : args.loras) loras.add(load_peft_adapter(name, dir, model.config(), args.max_lora_rank));
  if (!loras.empty()) model.set_lora_manager(&loras);
  int slot = loras.slot_of(o.lora.empty() && args.loras.size() == 1 ? args.loras[0].first : o.lora);
  std::vector<int32_t> tokens = tokenizer->encode(read_text_file(o.file), true);
  const int context = o.context > 0 ? o.context : model.config().max_position_embeddings;
  const int stride = o.stride > 0 ? o.stride : context / 2;
  PerplexityResult r = compute_perplexity(model, tokens, context, stride, slot);
  std::cout << fmt::format("perplexity: {:.4f}\n", r.perplexity);
  std::cout << fmt::format("tokens evaluated: {} (of {}), mean NLL {:.6f}, context {}, stride {}\n", r.num_tokens_scored,
                           tokens.size(), r.mean_nll, context, stride);
}

struct QuantizeOptions {
  EngineFlags engine;
  std::string output;
};

// Appends the tensors of one 4-bit linear layer in bitsandbytes' layout; the states must outlive the write.
void add_bnb_entries(const std::string& name, const Bnb4bitState& st, const std::string& state_json,
                     std::vector<SafetensorsEntry>& entries) {
  entries.push_back(safetensors_entry(name, "U8", {int64_t(st.weight.size()), 1}, st.weight.data()));
  if (st.nested) {
    entries.push_back(safetensors_entry(name + ".absmax", "U8", {int64_t(st.absmax_codes.size())}, st.absmax_codes.data()));
    entries.push_back(safetensors_entry(name + ".nested_absmax", "F32", {int64_t(st.nested_absmax.size())}, st.nested_absmax.data()));
    entries.push_back(safetensors_entry(name + ".nested_quant_map", "F32", {int64_t(st.nested_quant_map.size())}, st.nested_quant_map.data()));
  } else {
    entries.push_back(safetensors_entry(name + ".absmax", "F32", {int64_t(st.absmax.size())}, st.absmax.data()));
  }
  entries.push_back(safetensors_entry(name + ".quant_map", "F32", {int64_t(st.quant_map.size())}, st.quant_map.data()));
  entries.push_back(safetensors_entry(name + "." + bnb_quant_state_key(st.quant_type), "U8", {int64_t(state_json.size())}, state_json.data()));
}

std::vector<float> dense_rows(const WeightMatrix& m) {
  std::vector<float> out(m.n_out() * m.n_in());
  for (int64_t r = 0; r < m.n_out(); ++r) m.dequantize_row(r, out.data() + r * m.n_in());
  return out;
}

}  // namespace

void write_bnb_quantized_model(EngineArgs args, const std::string& output) {
  namespace fs = std::filesystem;
  const WeightFormat format = parse_weight_format(args.quantization.empty() ? "nf4" : args.quantization);
  if (format != WeightFormat::kNF4 && format != WeightFormat::kFP4) {
    throw_error(ErrorKind::kUnsupported, "--quantization {}: only nf4 and fp4 have a bitsandbytes serialization", args.quantization);
  }
  args.quantization = format == WeightFormat::kNF4 ? "nf4" : "fp4";  // bitsandbytes' spelling
  ModelWeights w = load_model_weights(args.model, weight_load_options(args));
  const ModelConfig& c = w.config;
  fs::create_directories(output);

  // Everything is gathered first: entries borrow these buffers until write_safetensors returns.
  std::vector<std::vector<float>> dense;
  std::vector<Bnb4bitState> states;
  std::vector<std::string> state_jsons;
  dense.reserve(4 * c.num_hidden_layers + 4);
  states.reserve(7 * c.num_hidden_layers);
  state_jsons.reserve(7 * c.num_hidden_layers);
  std::vector<SafetensorsEntry> entries;
  auto add_dense = [&](const std::string& name, std::vector<float> values, std::vector<int64_t> shape) {
    dense.push_back(std::move(values));
    entries.push_back(safetensors_entry(name, "F32", std::move(shape), dense.back().data()));
  };
  add_dense("model.embed_tokens.weight", dense_rows(*w.embed_tokens), {c.vocab_size, c.hidden_size});
  for (int l = 0; l < c.num_hidden_layers; ++l) {
    const LayerWeights& L = w.layers[l];
    const std::string p = fmt::format("model.layers.{}.", l);
    add_dense(p + "input_layernorm.weight", L.input_layernorm, {c.hidden_size});
    add_dense(p + "post_attention_layernorm.weight", L.post_attention_layernorm, {c.hidden_size});
    const auto linears = L.linear_layers();
    const auto biases = L.linear_biases();
    for (size_t i = 0; i < linears.size(); ++i) {
      const auto& [module, m] = linears[i];
      const std::string parent = i < 4 ? "self_attn." : "mlp.";  // q, k, v, o come first
      states.push_back(bnb_4bit_state(*m, "float32"));
      state_jsons.push_back(bnb_quant_state_json(states.back()));
      add_bnb_entries(p + parent + module + ".weight", states.back(), state_jsons.back(), entries);
      if (!biases[i]->empty()) add_dense(p + parent + module + ".bias", *biases[i], {int64_t(biases[i]->size())});
    }
  }
  add_dense("model.norm.weight", w.norm, {c.hidden_size});
  if (w.lm_head != w.embed_tokens) add_dense("lm_head.weight", dense_rows(*w.lm_head), {c.vocab_size, c.hidden_size});
  write_safetensors(output + "/model.safetensors", entries, {{"format", "pt"}});

  nlohmann::ordered_json config = nlohmann::ordered_json::parse(read_text_file(args.model + "/config.json"));
  config["torch_dtype"] = "float32";
  config["quantization_config"] = {{"quant_method", "bitsandbytes"},
                                   {"load_in_4bit", true},
                                   {"load_in_8bit", false},
                                   {"bnb_4bit_quant_type", args.quantization},
                                   {"bnb_4bit_use_double_quant", args.double_quant},
                                   {"bnb_4bit_compute_dtype", "float32"},
                                   {"bnb_4bit_quant_storage", "uint8"}};
  std::ofstream(output + "/config.json") << config.dump(2) << "\n";
  for (const char* f : {"tokenizer.json", "tokenizer.model", "tokenizer_config.json", "special_tokens_map.json", "generation_config.json"}) {
    const fs::path src = fs::path(args.model) / f;
    if (fs::exists(src)) fs::copy_file(src, fs::path(output) / f, fs::copy_options::overwrite_existing);
  }
  std::cout << fmt::format("wrote {} ({} tensors, {} linear layers in {}{})\n", output, entries.size(), states.size(),
                           args.quantization, args.double_quant ? " with double quantization" : "");
}

namespace {

void run_quantize(const QuantizeOptions& o) { write_bnb_quantized_model(o.engine.resolve(), o.output); }

}  // namespace

void add_quant_commands(CLI::App& app) {
  auto inspect = std::make_shared<InspectOptions>();
  CLI::App* ins = app.add_subcommand("inspect", "per-tensor format and bytes, and bits/param of the linear layers");
  add_engine_flags(*ins, inspect->engine);
  ins->callback([inspect] { run_inspect(*inspect); });

  auto quantize = std::make_shared<QuantizeOptions>();
  CLI::App* q = app.add_subcommand("quantize", "write a 4-bit model folder in bitsandbytes' serialization");
  add_engine_flags(*q, quantize->engine);
  q->add_option("--output", quantize->output, "output model folder")->required();
  q->callback([quantize] { run_quantize(*quantize); });

  auto ppl = std::make_shared<PerplexityOptions>();
  CLI::App* p = app.add_subcommand("perplexity", "perplexity of a text file (sliding window)");
  add_engine_flags(*p, ppl->engine);
  p->add_option("--file", ppl->file, "text file")->required();
  p->add_option("--context", ppl->context, "window length in tokens (default: max_position_embeddings)");
  p->add_option("--stride", ppl->stride, "window step (default: context / 2)");
  p->add_option("--lora-name", ppl->lora, "which --lora adapter to apply (default: the only one)");
  p->callback([ppl] { run_perplexity(*ppl); });
}

}  // namespace pagedllm
