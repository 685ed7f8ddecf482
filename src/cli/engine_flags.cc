#include "cli/engine_flags.h"

#include <fmt/format.h>

#include <cstring>
#include <filesystem>

#include "cli/model_folder.h"
#include "kernels/kv_cache_dtype.h"
#include "util/error.h"

namespace pagedllm {

CLI::Option* add_switch(CLI::App& app, const std::string& name, bool& value, const std::string& description) {
  return app.add_flag(fmt::format("--{},!--no-{}", name, name), value, description)
      ->default_str(value ? "true" : "false");
}

void add_engine_flags(CLI::App& app, EngineFlags& f) {
  EngineArgs& a = f.args;
  app.add_option("--model", a.model, "Hugging Face model folder")->required();
  app.add_option("--tokenizer", a.tokenizer, "tokenizer folder or tokenizer.json (default: the model folder)");
  app.add_option("--load-format", a.load_format, "auto | dummy (random weights for benchmarks)");
  app.add_option("--dtype", a.dtype, "weight storage of dense layers: auto | float32 | bfloat16 | float16");
  app.add_option("--quantization,-q", a.quantization, "quantize linear layers while loading: nf4 | fp4 | int4 | int8 | q8_0");
  add_switch(app, "double-quant", a.double_quant, "double quantization of 4-bit constants");
  app.add_option("--quant-block-size", a.quant_block_size,
                 "weights per absmax block of the 4-bit formats (bitsandbytes' blocksize)");
  app.add_flag("--quantize-lm-head", a.quantize_lm_head, "also quantize the LM head");
  app.add_option("--block-size", a.block_size, "tokens per KV block");
  app.add_option("--kv-cache-dtype", a.kv_cache_dtype,
                 "KV cache element type: auto (bfloat16 for 16-bit and quantized weights, float32 for fp32) | float32 | "
                 "bfloat16 | fp8 (= fp8_e4m3) | fp8_e4m3 | fp8_e5m2")
      ->check([](const std::string& value) {
        try {
          check_kv_cache_dtype_name(value);
          return std::string();
        } catch (const Error&) {  // CLI11 puts the flag's name in front
          return fmt::format("must be one of {}, got '{}'", kKVCacheDTypeChoices, value);
        }
      });
  app.add_option("--kv-cache-memory", a.kv_cache_memory, "bytes of KV cache (0: a quarter of available RAM)");
  app.add_option("--num-kv-blocks", a.num_kv_blocks, "exact number of KV blocks (overrides --kv-cache-memory)");
  app.add_option("--max-model-len", a.max_model_len, "maximum prompt + output tokens per request (0: the model's)");
  app.add_option("--max-num-seqs", a.max_num_seqs, "maximum running requests per step");
  app.add_option("--max-num-batched-tokens", a.max_num_batched_tokens, "token budget per step (0: 2048, or max-model-len without chunked prefill)");
  add_switch(app, "enable-chunked-prefill", a.enable_chunked_prefill, "split long prompts across steps");
  add_switch(app, "enable-prefix-caching", a.enable_prefix_caching, "reuse KV blocks of shared prompt prefixes");
  app.add_option("--seed", a.seed, "seed of unseeded requests and dummy weights");
  app.add_option("--num-threads", a.num_threads, "compute threads (0: all cores)");
  app.add_option("--lora", f.loras, "LoRA adapter NAME=DIR, or DIR named after its folder (repeatable)");
  app.add_option("--max-loras", a.max_loras, "maximum number of LoRA adapters");
  app.add_option("--max-lora-rank", a.max_lora_rank, "maximum LoRA rank");
  app.add_option("--tensor-parallel-size", a.tensor_parallel_size,
                 "split the model over this many MPI ranks (-tp; run under `mpirun -np N`)");
  app.add_option("--pipeline-parallel-size", a.pipeline_parallel_size, "(-pp) not implemented: only 1");
  app.add_option("--structured-max-recursion-depth", a.structured_max_recursion_depth,
                 "how deep recursive JSON Schemas ($ref) and grammar rules are expanded (1-7; each level about "
                 "doubles the automaton)")
      ->check(CLI::Range(1, 7));
}

void expand_parallel_short_flags(int argc, char** argv) {
  static char tensor[] = "--tensor-parallel-size", pipeline[] = "--pipeline-parallel-size";
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "-tp") == 0) argv[i] = tensor;
    if (std::strcmp(argv[i], "-pp") == 0) argv[i] = pipeline;
  }
}

std::pair<std::string, std::string> parse_lora_arg(const std::string& entry) {
  namespace fs = std::filesystem;
  const size_t eq = entry.find('=');
  // A '=' after a '/' belongs to the folder's name, not to NAME=.
  if (eq != std::string::npos && entry.substr(0, eq).find('/') == std::string::npos) {
    if (eq == 0 || eq + 1 == entry.size()) {
      throw_error(ErrorKind::kInvalidArgument, "--lora expects NAME=DIR or DIR, got '{}'", entry);
    }
    return {entry.substr(0, eq), entry.substr(eq + 1)};
  }
  fs::path dir = fs::path(entry).lexically_normal();
  if (!dir.has_filename()) dir = dir.parent_path();  // "adapter/" normalizes to "adapter/" with an empty filename
  const std::string name = dir.filename().string();
  if (name.empty() || name == "." || name == "..") {
    throw_error(ErrorKind::kInvalidArgument, "--lora {}: cannot name the adapter after this folder; pass NAME=DIR", entry);
  }
  return {name, entry};
}

EngineArgs EngineFlags::resolve() const {
  check_model_folder(args.model);
  check_parallel_sizes(args);
  EngineArgs a = args;
  for (const auto& entry : loras) a.loras.push_back(parse_lora_arg(entry));
  return a;
}

void add_sampling_flags(CLI::App& app, SamplingParams& p) {
  app.add_option("--n", p.n, "samples per prompt");
  app.add_option("--max-tokens", p.max_tokens, "maximum generated tokens");
  app.add_option("--min-tokens", p.min_tokens, "minimum generated tokens before stop tokens count");
  app.add_option("--temperature", p.temperature, "0 = greedy");
  app.add_option("--top-p", p.top_p);
  app.add_option("--top-k", p.top_k);
  app.add_option("--min-p", p.min_p);
  app.add_option("--presence-penalty", p.presence_penalty);
  app.add_option("--frequency-penalty", p.frequency_penalty);
  app.add_option("--repetition-penalty", p.repetition_penalty);
  app.add_option("--stop", p.stop, "stop string (repeatable)");
  app.add_option("--stop-token-ids", p.stop_token_ids, "stop token id (repeatable)");
  app.add_flag("--ignore-eos", p.ignore_eos);
  app.add_option("--logprobs", p.logprobs, "top logprobs per generated token");
  add_switch(app, "skip-special-tokens", p.skip_special_tokens, "leave special tokens out of the text");
  app.add_flag("--include-stop-str-in-output", p.include_stop_str_in_output);
}

}  // namespace pagedllm
