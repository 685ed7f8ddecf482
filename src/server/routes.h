// The endpoints of the OpenAI-compatible server, one file each (<name>_route.cc). Each registers its handler on
// the server; handlers run on HTTP threads and reach the engine only through the ServerContext.
#pragma once

namespace httplib {
class Server;
}

namespace pagedllm {

class ServerContext;

void register_models_route(httplib::Server& server, ServerContext& context);            // GET /v1/models
void register_completions_route(httplib::Server& server, ServerContext& context);       // POST /v1/completions
void register_chat_completions_route(httplib::Server& server, ServerContext& context);  // POST /v1/chat/completions
void register_tokenize_route(httplib::Server& server, ServerContext& context);          // POST /tokenize
void register_detokenize_route(httplib::Server& server, ServerContext& context);        // POST /detokenize
void register_health_route(httplib::Server& server, ServerContext& context);            // GET /health
void register_version_route(httplib::Server& server, ServerContext& context);           // GET /version
void register_metrics_route(httplib::Server& server, ServerContext& context);           // GET /metrics
void register_web_ui_route(httplib::Server& server, ServerContext& context);            // GET /, /web/* (chat page)

}  // namespace pagedllm
