#include "cli/engine_flags.h"

#include "util/error.h"

namespace pagedllm {

void add_engine_flags(CLI::App& app, EngineFlags& f) {
  EngineArgs& a = f.args;
  app.add_option("--model", a.model, "Hugging Face model folder")->required();
  app.add_option("--tokenizer", a.tokenizer, "tokenizer folder or tokenizer.json (default: the model folder)");
  app.add_option("--load-format", a.load_format, "auto | dummy (random weights for benchmarks)");
  app.add_option("--dtype", a.dtype, "weight storage of dense layers: auto | float32 | bfloat16 | float16");
  app.add_option("--quantization,-q", a.quantization, "quantize linear layers while loading: nf4 | fp4 | int4 | int8 | q8_0");
  app.add_flag("--double-quant,!--no-double-quant", a.double_quant, "double quantization of 4-bit constants (default on)");
  app.add_option("--quant-block-size", a.quant_block_size,
                 "weights per absmax block of the 4-bit formats (bitsandbytes' blocksize, default 64)");
  app.add_flag("--quantize-lm-head", a.quantize_lm_head, "also quantize the LM head");
  app.add_option("--block-size", a.block_size, "tokens per KV block");
  app.add_option("--kv-cache-memory", a.kv_cache_memory, "bytes of KV cache (default: a quarter of available RAM)");
  app.add_option("--num-kv-blocks", a.num_kv_blocks, "exact number of KV blocks (overrides --kv-cache-memory)");
  app.add_option("--max-model-len", a.max_model_len, "maximum prompt + output tokens per request");
  app.add_option("--max-num-seqs", a.max_num_seqs, "maximum running requests per step");
  app.add_option("--max-num-batched-tokens", a.max_num_batched_tokens, "token budget per step");
  app.add_flag("--enable-chunked-prefill,!--no-enable-chunked-prefill", a.enable_chunked_prefill, "split long prompts across steps");
  app.add_flag("--enable-prefix-caching,!--no-enable-prefix-caching", a.enable_prefix_caching, "reuse KV blocks of shared prompt prefixes");
  app.add_option("--seed", a.seed, "seed of unseeded requests and dummy weights");
  app.add_option("--num-threads", a.num_threads, "compute threads (default: all cores)");
  app.add_option("--lora", f.loras, "LoRA adapter NAME=DIR (repeatable)");
  app.add_option("--max-loras", a.max_loras, "maximum number of LoRA adapters");
  app.add_option("--max-lora-rank", a.max_lora_rank, "maximum LoRA rank");
}

EngineArgs EngineFlags::resolve() const {
  EngineArgs a = args;
  for (const auto& entry : loras) {
    auto eq = entry.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == entry.size()) {
      throw_error(ErrorKind::kInvalidArgument, "--lora expects NAME=DIR, got '{}'", entry);
    }
    a.loras.emplace_back(entry.substr(0, eq), entry.substr(eq + 1));
  }
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
  app.add_flag("--skip-special-tokens,!--no-skip-special-tokens", p.skip_special_tokens);
  app.add_flag("--include-stop-str-in-output", p.include_stop_str_in_output);
}

}  // namespace pagedllm
