// `pagedllm bench ...`: roofline (this machine's limits) and throughput (vLLM's benchmark_throughput), each
// figure reported next to the bound it is judged against.
#include <fmt/format.h>

#include <chrono>
#include <iostream>
#include <memory>

#include "cli/commands.h"
#include "cli/engine_flags.h"
#include "engine/tensor_parallel_worker.h"
#include "engine/llm.h"
#include "kernels/roofline.h"
#include "model/paged_kv_cache.h"
#include "bench/quant_bench.h"
#include "bench/bench_serve.h"
#include "tokenizer/tokenizer.h"
#include "bench/tokenizer_bench.h"
#include "util/mapped_file.h"
#include "util/error.h"
#include "util/rng.h"
#include "util/thread_pool.h"

namespace pagedllm {
namespace {

void print_roofline(const RooflineResult& r) {
  std::cout << fmt::format(
      "memory read bandwidth: {:.2f} GB/s ({} threads), {:.2f} GB/s (1 thread); best 32 MiB window {:.2f} GB/s\n",
      r.read_bandwidth_gbs, num_threads(), r.read_bandwidth_gbs_1t, r.read_bandwidth_window_gbs);
  std::cout << fmt::format("fp32 FMA peak: {:.1f} GFLOP/s ({} threads), {:.1f} GFLOP/s (1 thread)\n", r.fma_peak_gflops,
                           num_threads(), r.fma_peak_gflops_1t);
  std::cout << fmt::format("sgemm 2048^3: {:.1f} GFLOP/s\n", r.sgemm_gflops);
}

struct ThroughputOptions {
  EngineFlags engine;
  int num_prompts = 64;
  int input_len = 128;
  int output_len = 128;
  bool roofline = true;
};

void run_throughput(ThroughputOptions& o) {
  EngineArgs args = o.engine.resolve();
  if (run_tensor_parallel_worker(args)) return;
  if (o.num_prompts < 1 || o.input_len < 1 || o.output_len < 1) {
    throw_error(ErrorKind::kInvalidArgument, "--num-prompts, --input-len and --output-len must be positive");
  }
  if (args.max_model_len == 0) args.max_model_len = o.input_len + o.output_len;
  LLM llm(args);
  const ModelConfig& config = llm.engine().model().config();
  // Random prompts, as vLLM's random dataset: token ids drawn uniformly, never special ids 0..2.
  Rng rng(args.seed);
  std::vector<PromptInput> prompts;
  for (int i = 0; i < o.num_prompts; ++i) {
    PromptInput p;
    for (int t = 0; t < o.input_len; ++t) p.token_ids.push_back(3 + int32_t(rng.next_u64() % (config.vocab_size - 3)));
    prompts.push_back(std::move(p));
  }
  SamplingParams params;
  params.temperature = 0.0f;
  params.max_tokens = o.output_len;
  params.ignore_eos = true;
  const auto start = std::chrono::steady_clock::now();
  llm.generate(prompts, std::vector<SamplingParams>(prompts.size(), params));
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const EngineStats stats = llm.engine().stats();

  const double total_in = double(o.num_prompts) * o.input_len, total_out = double(o.num_prompts) * o.output_len;
  std::cout << fmt::format("model: {} ({} parameters, weights {:.1f} MB)\n", args.model, config.num_parameters(),
                           llm.engine().model().weights().num_bytes() / 1e6);
  std::cout << fmt::format("Throughput: {:.2f} requests/s, {:.2f} total tokens/s, {:.2f} output tokens/s ({:.2f} s)\n",
                           o.num_prompts / elapsed, (total_in + total_out) / elapsed, total_out / elapsed, elapsed);
  const double ttft = stats.time_to_first_token_seconds.sum / std::max<uint64_t>(1, stats.time_to_first_token_seconds.count);
  const double decode_time = stats.inter_token_latency_seconds.sum / std::max<uint64_t>(1, stats.inter_token_latency_seconds.count);
  std::cout << fmt::format("mean TTFT: {:.3f} s, mean inter-token latency: {:.2f} ms ({:.2f} decode tokens/s per stream)\n",
                           ttft, decode_time * 1e3, decode_time > 0 ? 1.0 / decode_time : 0.0);
  std::cout << fmt::format("peak KV blocks used: {} of {}, preemptions: {}, KV cache: {} ({} bytes per token)\n",
                           llm.engine().peak_kv_blocks_used(), llm.engine().num_kv_blocks(),
                           stats.num_preemptions_total, kv_cache_dtype_name(config.kv_cache_dtype),
                           PagedKVCache::bytes_per_block(config, 1));
  if (!o.roofline) return;
  RooflineResult r = measure_roofline(num_threads());
  print_roofline(r);
  // Decode streams every weight once per step (embeddings are looked up, not streamed).
  const double bytes_per_step = double(llm.engine().model().weights().num_bytes()) -
                                (config.tie_word_embeddings ? 0.0 : double(llm.engine().model().weights().embed_tokens->num_bytes()));
  const double decode_bound = r.read_bandwidth_gbs * 1e9 / bytes_per_step;
  const double flop_bound = r.fma_peak_gflops * 1e9 / (2.0 * config.num_parameters());
  if (o.num_prompts == 1) {
    const double achieved = decode_time > 0 ? 1.0 / decode_time : 0.0;
    const double window_bound = r.read_bandwidth_window_gbs * 1e9 / bytes_per_step;
    std::cout << fmt::format(
        "single-stream decode: {:.2f} tokens/s, bandwidth bound {:.2f} tokens/s ({:.1f} MB/token): {:.0f}% of bound "
        "({:.0f}% of the best-window bound {:.2f})\n",
        achieved, decode_bound, bytes_per_step / 1e6, 100.0 * achieved / decode_bound, 100.0 * achieved / window_bound,
        window_bound);
  }
  const double achieved_tokens = (total_in + total_out) / elapsed;
  std::cout << fmt::format("all tokens: {:.2f} tokens/s, FLOP bound {:.2f} tokens/s (2 x {} params/token): {:.0f}% of bound\n",
                           achieved_tokens, flop_bound, config.num_parameters(), 100.0 * achieved_tokens / flop_bound);
}

}  // namespace

void add_bench_command(CLI::App& app) {
  CLI::App* bench = app.add_subcommand("bench", "benchmarks: roofline, throughput, tokenizer, quant, serve");
  bench->require_subcommand(1);

  auto threads = std::make_shared<int>(0);
  CLI::App* roofline = bench->add_subcommand("roofline", "measure memory read bandwidth and fp32 FMA peak");
  roofline->add_option("--num-threads", *threads, "threads (default: all cores)");
  roofline->callback([threads] {
    if (*threads > 0) set_num_threads(*threads);
    print_roofline(measure_roofline(num_threads()));
  });

  auto throughput = std::make_shared<ThroughputOptions>();
  CLI::App* tp = bench->add_subcommand("throughput", "offline throughput on random prompts (vLLM benchmark_throughput)");
  add_engine_flags(*tp, throughput->engine);
  tp->add_option("--num-prompts", throughput->num_prompts);
  tp->add_option("--input-len", throughput->input_len);
  tp->add_option("--output-len", throughput->output_len);
  tp->add_flag("--roofline,!--no-roofline", throughput->roofline, "also measure the machine and print achieved/bound");
  tp->callback([throughput] { run_throughput(*throughput); });

  auto tok = std::make_shared<std::pair<std::string, std::string>>();
  CLI::App* tk = bench->add_subcommand("tokenizer", "encode MB/s on one thread");
  tk->add_option("--tokenizer", tok->first, "model folder or tokenizer.json")->required();
  tk->add_option("--file", tok->second, "text file")->required();
  tk->callback([tok] {
    set_num_threads(1);
    std::unique_ptr<Tokenizer> t = Tokenizer::from_path(tok->first);
    std::string text = read_text_file(tok->second);
    std::cout << fmt::format("encode: {:.2f} MB/s ({} bytes, 1 thread)\n", bench_tokenizer_encode_mb_per_s(*t, text), text.size());
  });

  auto quant = std::make_shared<std::pair<int64_t, int>>(1, 200);
  CLI::App* qb = bench->add_subcommand("quant", "fused matmul GB/s per weight format against read bandwidth");
  qb->add_option("--rows", quant->first, "rows of x (1 = single-stream decode)");
  qb->add_option("--calls", quant->second, "calls per measurement");
  qb->callback([quant] {
    for (const auto& line : quant_gemv_bench_report(quant->first, quant->second)) std::cout << line << "\n";
  });

  auto serve = std::make_shared<BenchServeConfig>();
  auto rate = std::make_shared<std::string>("inf");
  CLI::App* sv = bench->add_subcommand("serve", "load a running server (vLLM benchmark_serving)");
  sv->add_option("--base-url", serve->base_url);
  sv->add_option("--model", serve->model, "model name (default: the server's first)");
  sv->add_option("--num-prompts", serve->num_prompts);
  sv->add_option("--request-rate", *rate, "requests/s or inf");
  sv->add_option("--input-len", serve->input_len);
  sv->add_option("--output-len", serve->output_len);
  sv->add_option("--seed", serve->seed);
  sv->add_option("--api-key", serve->api_key);
  sv->callback([serve, rate] {
    if (*rate != "inf") {
      try {
        serve->request_rate = std::stod(*rate);
      } catch (const std::exception&) {
        throw_error(ErrorKind::kInvalidArgument, "--request-rate must be a number or inf, got '{}'", *rate);
      }
    }
    if (int rc = run_bench_serve(*serve); rc != 0) throw CLI::RuntimeError(rc);
  });
}

}  // namespace pagedllm
