// `pagedllm inspect | perplexity`: what the weights cost in memory, and what quantization costs in quality.
#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include <deque>
#include <iostream>
#include <memory>

#include "cli/commands.h"
#include "cli/engine_flags.h"
#include "dist/communicator.h"
#include "cli/quantized_model_writer.h"
#include "engine/engine_args.h"
#include "formats/checkpoint_layout.h"
#include "formats/model_folder_writer.h"
#include "model/checkpoint_entries.h"
#include "model/llama_model.h"
#include "model/lora_adapters.h"
#include "model/perplexity.h"
#include "quant/bnb_serialization.h"
#include "quant/quantize.h"
#include "tokenizer/tokenizer.h"
#include "util/error.h"
#include "util/mapped_file.h"
#include "util/process_memory.h"

namespace pagedllm {
namespace {

struct InspectOptions {
  EngineFlags engine;
};

// Commands that read or write whole matrices run in one process.
void refuse_tensor_parallel(const EngineArgs& args, const char* command) {
  if (args.tensor_parallel_size > 1) {
    throw_error(ErrorKind::kInvalidArgument, "`pagedllm {}` runs in one process; drop --tensor-parallel-size", command);
  }
}

void run_inspect(const InspectOptions& o) {
  EngineArgs args = o.engine.resolve();
  refuse_tensor_parallel(args, "inspect");
  ModelWeights w = load_model_weights(args.model, weight_load_options(args));
  const ModelConfig& c = w.config;
  size_t quantized_bytes = 0;
  int64_t quantized_params = 0;
  auto row = [](const std::string& name, const WeightMatrix& m) {
    std::cout << fmt::format("{:<48} {:>5} [{}, {}] {:>12} bytes\n", name, weight_format_name(m.format()), m.n_out(), m.n_in(), m.num_bytes());
  };
  row(tensor_names::kEmbedTokens, *w.embed_tokens);
  for (int l = 0; l < c.num_hidden_layers; ++l) {
    for (int module = 0; module < kNumLinearModules; ++module) {
      const WeightMatrix& m = w.layers[l].linear(module);
      row(tensor_names::linear_weight(l, module), m);
      quantized_bytes += m.num_bytes();
      quantized_params += m.n_out() * m.n_in();
    }
  }
  if (w.lm_head != w.embed_tokens) row(tensor_names::kLmHead, *w.lm_head);
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
  for (const auto& [name, dir] : args.loras) {
    loras.add(load_served_adapter(name, dir, model.config(), args.max_lora_rank, model.weights().shard));
  }
  if (!loras.empty()) model.set_lora_manager(&loras);
  int slot = loras.slot_of(o.lora.empty() && args.loras.size() == 1 ? args.loras[0].first : o.lora);
  std::vector<int32_t> tokens = tokenizer->encode(read_text_file(o.file), true);
  const int context = o.context > 0 ? o.context : model.config().max_position_embeddings;
  const int stride = o.stride > 0 ? o.stride : context / 2;
  // Under tensor parallelism every rank runs these same forwards on its shard (the all-reduces keep them in step);
  // rank 0 reports.
  PerplexityResult r = compute_perplexity(model, tokens, context, stride, slot);
  if (!Communicator::world().is_root()) return;
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

}  // namespace

void write_bnb_quantized_model(EngineArgs args, const std::string& output) {
  const WeightFormat format = parse_weight_format(args.quantization.empty() ? "nf4" : args.quantization);
  if (format != WeightFormat::kNF4 && format != WeightFormat::kFP4) {
    throw_error(ErrorKind::kUnsupported, "--quantization {}: only nf4 and fp4 have a bitsandbytes serialization", args.quantization);
  }
  args.quantization = format == WeightFormat::kNF4 ? "nf4" : "fp4";  // bitsandbytes' spelling
  ModelWeights w = load_model_weights(args.model, weight_load_options(args));

  // Entries borrow these states until write_model_folder returns (a deque keeps their addresses).
  std::deque<Bnb4bitState> states;
  std::deque<std::string> state_jsons;
  const std::vector<SafetensorsEntry> entries =
      checkpoint_entries(w, [&](int layer, int module, const WeightMatrix& m, std::vector<SafetensorsEntry>& out) {
        states.push_back(bnb_4bit_state(m, "float32"));
        state_jsons.push_back(bnb_quant_state_json(states.back()));
        add_bnb_entries(tensor_names::linear_weight(layer, module), states.back(), state_jsons.back(), out);
      });

  nlohmann::ordered_json config = read_config_json(args.model);
  config["torch_dtype"] = "float32";
  config["quantization_config"] = {{"quant_method", "bitsandbytes"},
                                   {"load_in_4bit", true},
                                   {"load_in_8bit", false},
                                   {"bnb_4bit_quant_type", args.quantization},
                                   {"bnb_4bit_use_double_quant", args.double_quant},
                                   {"bnb_4bit_compute_dtype", "float32"},
                                   {"bnb_4bit_quant_storage", "uint8"}};
  write_model_folder(args.model, output, entries, config);
  std::cout << fmt::format("wrote {} ({} tensors, {} linear layers in {}{})\n", output, entries.size(), states.size(),
                           args.quantization, args.double_quant ? " with double quantization" : "");
}

namespace {

void run_quantize(const QuantizeOptions& o) {
  const EngineArgs args = o.engine.resolve();
  refuse_tensor_parallel(args, "quantize");
  write_bnb_quantized_model(args, o.output);
}

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
