// `pagedllm generate`: offline batch generation over the LLM API.
#include <fmt/format.h>

#include <chrono>
#include <fstream>
#include <iostream>
#include <memory>

#include "cli/commands.h"
#include "cli/engine_flags.h"
#include "engine/tensor_parallel_worker.h"
#include "cli/output_json.h"
#include "engine/llm.h"
#include "model/paged_kv_cache.h"
#include "server/structured_fields.h"
#include "util/error.h"
#include "util/mapped_file.h"

namespace pagedllm {
namespace {

struct GenerateOptions {
  EngineFlags engine;
  SamplingParams params;
  std::vector<std::string> prompts;
  std::string prompts_file;
  bool json = false;
  // Structured outputs (one at most): a JSON Schema file, any JSON object, a regex, choices, a GBNF grammar file.
  std::string json_schema_file;
  bool json_object = false;
  std::optional<std::string> regex;
  std::vector<std::string> choices;
  std::string grammar_file;
  bool any_whitespace = false;
};

std::optional<StructuredOutputsParams> structured_outputs_flags(const GenerateOptions& o) {
  StructuredOutputsParams s;
  if (!o.json_schema_file.empty()) s.json = read_text_file(o.json_schema_file);
  s.json_object = o.json_object;
  s.regex = o.regex;
  s.choice = o.choices;
  if (!o.grammar_file.empty()) s.grammar = read_text_file(o.grammar_file);
  s.any_whitespace = o.any_whitespace;
  if (s.num_kinds() == 0) return std::nullopt;
  if (s.num_kinds() > 1) throw_error(ErrorKind::kInvalidArgument, "give at most one of --json-schema, --json-object, --regex, --choice and --grammar");
  return s;
}

struct PromptLine {
  PromptInput input;
  SamplingParams params;
  std::string lora;
};

std::vector<PromptLine> read_prompts_file(const std::string& path, const SamplingParams& defaults) {
  std::ifstream in(path);
  if (!in) throw_error(ErrorKind::kNotFound, "{}: cannot open prompts file", path);
  std::vector<PromptLine> lines;
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object()) throw_error(ErrorKind::kInvalidArgument, "{}:{}: not a JSON object", path, number);
    PromptLine p;
    p.params = defaults;
    if (j.contains("prompt") && j["prompt"].is_string()) {
      p.input.text = j["prompt"].get<std::string>();
    } else if (j.contains("prompt_token_ids") && j["prompt_token_ids"].is_array()) {
      p.input.token_ids = j["prompt_token_ids"].get<std::vector<int32_t>>();
    } else {
      throw_error(ErrorKind::kInvalidArgument, "{}:{}: needs a string \"prompt\" or \"prompt_token_ids\"", path, number);
    }
    try {
      apply_sampling_fields(j, p.params);
    } catch (const Error& e) {
      throw_error(ErrorKind::kInvalidArgument, "{}:{}: {}", path, number, e.what());
    }
    if (auto structured = parse_structured_fields(j, nlohmann::ordered_json::parse(line))) p.params.structured_outputs = structured;
    if (j.contains("lora") && j["lora"].is_string()) p.lora = j["lora"].get<std::string>();
    lines.push_back(std::move(p));
  }
  return lines;
}

// vLLM's prefix-cache hit rate: the share of queried prompt tokens whose KV blocks were found cached.
std::string prefix_cache_summary(const EngineArgs& args, const EngineStats& stats) {
  if (!args.enable_prefix_caching) return "prefix caching: off";
  const double rate = stats.prefix_cache_queries_total == 0
                          ? 0.0
                          : 100.0 * double(stats.prefix_cache_hits_total) / double(stats.prefix_cache_queries_total);
  return fmt::format("prefix cache hit rate: {:.1f}% ({} of {} prompt tokens)", rate, stats.prefix_cache_hits_total,
                     stats.prefix_cache_queries_total);
}

void run_generate(const GenerateOptions& o, bool seed_given) {
  EngineArgs args = o.engine.resolve();
  if (run_tensor_parallel_worker(args)) return;
  SamplingParams defaults = o.params;
  if (seed_given) defaults.seed = args.seed;
  defaults.structured_outputs = structured_outputs_flags(o);
  std::vector<PromptLine> lines;
  for (const auto& p : o.prompts) lines.push_back(PromptLine{PromptInput{p, {}, true}, defaults, ""});
  if (!o.prompts_file.empty()) {
    auto more = read_prompts_file(o.prompts_file, defaults);
    lines.insert(lines.end(), more.begin(), more.end());
  }
  if (lines.empty()) throw_error(ErrorKind::kInvalidArgument, "no prompts: give --prompt TEXT or --prompts-file FILE");
  // One --lora applies to every prompt that does not name another.
  std::string default_lora = args.loras.size() == 1 ? args.loras[0].first : "";

  LLM llm(args);
  std::vector<PromptInput> inputs;
  std::vector<SamplingParams> params;
  std::vector<std::string> loras;
  for (auto& l : lines) {
    inputs.push_back(l.input);
    params.push_back(l.params);
    loras.push_back(l.lora.empty() ? default_lora : l.lora);
  }
  const auto start = std::chrono::steady_clock::now();
  std::vector<RequestOutput> outputs = llm.generate(inputs, params, loras);
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  size_t prompt_tokens = 0, generated_tokens = 0;
  for (const auto& out : outputs) {
    prompt_tokens += out.prompt_token_ids.size();
    for (const auto& c : out.outputs) generated_tokens += c.token_ids.size();
    if (o.json) {
      std::cout << request_output_to_json(out).dump() << "\n";
    } else {
      for (const auto& c : out.outputs) {
        std::cout << out.prompt << c.text << "\n";
        if (out.outputs.size() > 1) std::cout << "---\n";
      }
    }
  }
  std::cout.flush();
  const EngineStats stats = llm.engine().stats();
  const ModelConfig& config = llm.engine().model().config();
  std::cerr << fmt::format(
      "requests: {}, prompt tokens: {}, generated tokens: {}, elapsed: {:.3f} s, {:.2f} tokens/s (generated), "
      "KV cache: {} ({} bytes per token), peak KV blocks used: {} of {}, preemptions: {}, {}\n",
      outputs.size(), prompt_tokens, generated_tokens, elapsed, generated_tokens / std::max(elapsed, 1e-9),
      kv_cache_dtype_name(config.kv_cache_dtype), PagedKVCache::bytes_per_block(config, 1),
      llm.engine().peak_kv_blocks_used(), llm.engine().num_kv_blocks(), stats.num_preemptions_total,
      prefix_cache_summary(args, stats));
  llm.engine().reset_prefix_cache();
  PAGEDLLM_CHECK_MSG(llm.engine().num_free_kv_blocks() == llm.engine().num_kv_blocks(),
                     "KV blocks leaked: {} of {} free after all requests finished", llm.engine().num_free_kv_blocks(),
                     llm.engine().num_kv_blocks());
}

}  // namespace

void add_generate_command(CLI::App& app) {
  auto options = std::make_shared<GenerateOptions>();
  CLI::App* cmd = app.add_subcommand("generate", "generate text for prompts (offline batch)");
  add_engine_flags(*cmd, options->engine);
  add_sampling_flags(*cmd, options->params);
  cmd->add_option("--prompt", options->prompts, "a prompt (repeatable)");
  cmd->add_option("--prompts-file", options->prompts_file, "JSON lines {\"prompt\": ...} with optional sampling and structured-output fields (guided_json, ...)");
  cmd->add_flag("--json", options->json, "one JSON RequestOutput per prompt, in input order");
  cmd->add_option("--json-schema", options->json_schema_file, "constrain outputs to this JSON Schema file");
  cmd->add_flag("--json-object", options->json_object, "constrain outputs to a JSON object");
  cmd->add_option("--regex", options->regex, "constrain outputs to match this regex");
  cmd->add_option("--choice", options->choices, "constrain outputs to one of these strings (comma-separated)")->delimiter(',');
  cmd->add_option("--grammar", options->grammar_file, "constrain outputs to this GBNF grammar file");
  cmd->add_flag("--any-whitespace", options->any_whitespace, "JSON outputs may have whitespace between tokens");
  cmd->callback([options, cmd] { run_generate(*options, cmd->count("--seed") > 0); });
}

}  // namespace pagedllm
