// `pagedllm inspect | perplexity`: what the weights cost in memory, and what quantization costs in quality.
#include <fmt/format.h>

#include <iostream>
#include <memory>

#include "cli/commands.h"
#include "cli/engine_flags.h"
#include "engine/engine_args.h"
#include "model/llama_model.h"
#include "model/lora_adapters.h"
#include "model/perplexity.h"
#include "tokenizer/tokenizer.h"
#include "util/error.h"
#include "util/mapped_file.h"

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

}  // namespace

void add_quant_commands(CLI::App& app) {
  auto inspect = std::make_shared<InspectOptions>();
  CLI::App* ins = app.add_subcommand("inspect", "per-tensor format and bytes, and bits/param of the linear layers");
  add_engine_flags(*ins, inspect->engine);
  ins->callback([inspect] { run_inspect(*inspect); });

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
