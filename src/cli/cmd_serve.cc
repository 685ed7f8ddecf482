// `pagedllm serve`: the OpenAI-compatible HTTP server over an AsyncEngine.
#include <memory>

#include "cli/commands.h"
#include "cli/engine_flags.h"
#include "engine/async_engine.h"
#include "server/run_server.h"
#include "server/server_config.h"

namespace pagedllm {
namespace {

struct ServeOptions {
  EngineFlags engine;
  ServerConfig server;
  std::string chat_template;
  size_t max_request_body = 0;
};

int run_serve(ServeOptions& o) {
  EngineArgs args = o.engine.resolve();
  ServerConfig config = o.server;
  config.model_path = args.model;
  if (!o.chat_template.empty()) config.chat_template = load_chat_template_arg(o.chat_template);
  if (o.max_request_body > 0) config.max_request_body = o.max_request_body;
  AsyncEngine engine(args);
  int rc = run_server(engine, config);
  engine.shutdown();
  return rc;
}

}  // namespace

void add_serve_command(CLI::App& app) {
  auto o = std::make_shared<ServeOptions>();
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
  cmd->callback([o] {
    int rc = run_serve(*o);
    if (rc != 0) throw CLI::RuntimeError(rc);
  });
}

}  // namespace pagedllm
