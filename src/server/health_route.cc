// GET /health: 200 with an empty body while the engine loop is alive, 503 once it has died (as vLLM).
#include <httplib.h>

#include "server/api_error.h"
#include "server/routes.h"
#include "server/server_context.h"

namespace pagedllm {

void register_health_route(httplib::Server& server, ServerContext& context) {
  server.Get("/health", [&context](const httplib::Request&, httplib::Response& response) {
    if (context.engine.is_alive()) {
      response.status = 200;
      return;
    }
    set_error_response(response, {503, "The engine is not running", ""});
  });
}

}  // namespace pagedllm
