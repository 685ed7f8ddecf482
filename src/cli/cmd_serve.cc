// `pagedllm serve`: the OpenAI-compatible HTTP server over an AsyncEngine.
#include <cstdio>
#include <memory>

#include <fmt/format.h>

#include "cli/chat_template_flag.h"
#include "cli/commands.h"
#include "cli/engine_flags.h"
#include "engine/tensor_parallel_worker.h"
#include "engine/async_engine.h"
#include "model/paged_kv_cache.h"
#include "server/run_server.h"
#include "server/server_memory.h"
#include "server/server_config.h"

namespace pagedllm {
namespace {

struct ServeOptions {
  EngineFlags engine;
  ServerConfig server;
  std::string chat_template;
  size_t max_request_body = 0;
};

bool is_4bit(WeightFormat format) {
  return format == WeightFormat::kNF4 || format == WeightFormat::kFP4 || format == WeightFormat::kInt4;
}

// The first lines of the start-up block on stderr (run_server adds the address and the web UI's URL).
void log_engine_summary(const AsyncEngine& engine, const EngineArgs& args, const ServerConfig& config) {
  const EngineCore& core = engine.core();
  const ModelWeights& weights = core.model().weights();
  constexpr double kMiB = 1024.0 * 1024.0;
  WeightFormat linear = weights.layers.front().linear(kQProj).format();
  std::string linear_name = weight_format_name(linear);
  if (is_4bit(linear) && args.double_quant) linear_name += "+DQ";
  std::string name = config.served_model_names.empty() ? default_served_model_name(args.model)
                                                        : config.served_model_names.front();
  double kv_bytes = static_cast<double>(PagedKVCache::bytes_per_block(weights.shard_config, args.block_size)) *
                    core.num_kv_blocks();
  std::string text = fmt::format("INFO:     pagedllm {} serve\n", config.version);
  text += fmt::format("INFO:     model: {} ({}{}), max_model_len {}\n", name, args.model,
                      args.load_format == "dummy" ? ", dummy weights" : "", core.max_model_len());
  text += fmt::format("INFO:     weights: {} linear layers, {} LM head, {:.1f} MiB\n", linear_name,
                      weight_format_name(weights.lm_head->format()), weights.num_bytes() / kMiB);
  text += fmt::format("INFO:     KV cache: {} blocks of {} tokens ({} tokens), {:.1f} MiB\n", core.num_kv_blocks(),
                      args.block_size, static_cast<int64_t>(core.num_kv_blocks()) * args.block_size,
                      kv_bytes / kMiB);
  text += fmt::format("INFO:     KV cache dtype: {} ({} bytes per token)\n", kv_cache_dtype_name(weights.config.kv_cache_dtype),
                      PagedKVCache::bytes_per_block(weights.config, 1));
  for (const std::string& lora : core.lora_names()) text += fmt::format("INFO:     LoRA adapter: {}\n", lora);
  std::fputs(text.c_str(), stderr);
}

int run_serve(ServeOptions& o) {
  limit_malloc_arenas_for_serving();
  EngineArgs args = o.engine.resolve();
  if (run_tensor_parallel_worker(args)) return 0;
  ServerConfig config = o.server;
  config.model_path = args.model;
  config.max_num_seqs = args.max_num_seqs;
  config.version = PAGEDLLM_VERSION;
  if (!o.chat_template.empty()) config.chat_template = read_chat_template_flag(o.chat_template);
  if (o.max_request_body > 0) config.max_request_body = o.max_request_body;
  AsyncEngine engine(args);
  log_engine_summary(engine, args, config);
  if (config.chat_template.empty() && !engine.tokenizer().chat_template()) {
    std::fprintf(stderr,
                 "pagedllm: note: %s has no chat template, so /v1/chat/completions answers 400; pass --chat-template "
                 "FILE (tests/fixtures/chat_templates/ holds examples)\n",
                 args.model.c_str());
  }
  int rc = run_server(engine, config);
  engine.shutdown();
  return rc;
}

}  // namespace

void add_serve_command(CLI::App& app) {
  auto o = std::make_shared<ServeOptions>();
  o->server.enable_access_log = true;  // as vLLM; the library default is quiet for embedding and tests
  CLI::App* cmd = app.add_subcommand("serve", "OpenAI-compatible HTTP server");
  add_engine_flags(*cmd, o->engine);
  cmd->add_option("--host", o->server.host, "address to listen on");
  cmd->add_option("--port", o->server.port, "port (0: any free port)");
  cmd->add_option("--served-model-name", o->server.served_model_names, "model name(s) clients use");
  cmd->add_option("--api-key", o->server.api_key, "require Authorization: Bearer KEY on /v1/*");
  cmd->add_option("--chat-template", o->chat_template, "a Jinja chat template, as a file or inline text");
  cmd->add_flag("--enable-auto-tool-choice", o->server.enable_auto_tool_choice, "serve tool_choice \"auto\" (needs --tool-call-parser)");
  cmd->add_option("--tool-call-parser", o->server.tool_call_parser, "how tool calls are read from the text: hermes | llama3_json | deepseek_r1")
      ->check(CLI::IsMember({"hermes", "llama3_json", "deepseek_r1"}));
  cmd->add_option("--max-queued-requests", o->server.max_queued_requests, "503 beyond this many waiting requests");
  cmd->add_option("--max-request-body", o->max_request_body, "413 for bodies larger than this many bytes");
  cmd->add_flag("!--no-web-ui", o->server.enable_web_ui, "do not serve the chat page at /");
  cmd->add_flag("!--disable-access-log", o->server.enable_access_log, "no line per request on stderr");
  cmd->callback([o] {
    int rc = run_serve(*o);
    if (rc != 0) throw CLI::RuntimeError(rc);
  });
}

}  // namespace pagedllm
