// The settings of `pagedllm serve` that belong to the HTTP layer (the engine has its own).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace pagedllm {

struct ServerConfig {
  std::string host = "127.0.0.1";
  int port = 8000;                              // 0: any free port (OpenAIServer::bound_port says which)
  std::vector<std::string> served_model_names;  // the first is reported; empty: the model folder's name
  std::string model_path;                       // the model folder; `root` in /v1/models
  std::string api_key;                          // non-empty: /v1/* requires "Authorization: Bearer <api_key>"
  std::string chat_template;                    // template source overriding the tokenizer's; empty: tokenizer's
  // 503 once this many sequences wait for the engine: sequences admitted and not finished beyond max_num_seqs
  // (a request with n samples counts n; a completions request with several prompts counts each prompt's n).
  int max_queued_requests = 1024;
  int max_num_seqs = 256;                       // the engine's --max-num-seqs: sequences it runs at once
  size_t max_request_body = 16u << 20;          // bytes; 413 above
  int num_http_threads = 256;                   // each open connection (streaming or keep-alive) holds one
  double request_head_timeout_s = 10.0;        // a request's line and headers must arrive within this
  int max_connections_per_client = 128;         // open connections per client IP address; 503 beyond
  double shutdown_timeout_s = 30.0;             // SIGINT/SIGTERM: wait this long for in-flight requests
  std::string version = "0.1.0";                // GET /version
  bool enable_web_ui = true;                    // GET / serves the chat page (web/); --no-web-ui: 404
  bool enable_access_log = false;               // one uvicorn-style line per request on stderr
  bool enable_auto_tool_choice = false;         // tool_choice "auto" is served (needs tool_call_parser)
  std::string tool_call_parser;                 // hermes | llama3_json | deepseek_r1; empty: none
};

// The `--chat-template` argument as vLLM reads it: a file's contents when the argument names a readable file,
// otherwise the template text itself.
std::string load_chat_template_arg(const std::string& argument);

// The name a model folder is served under by default: its last path component ("/models/stories260K/" →
// "stories260K").
std::string default_served_model_name(const std::string& model_path);

}  // namespace pagedllm
