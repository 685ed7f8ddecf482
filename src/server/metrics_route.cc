// GET /metrics: the engine's counters in Prometheus text format (prometheus_text.h).
#include <httplib.h>

#include "server/prometheus_text.h"
#include "server/routes.h"
#include "server/server_context.h"

namespace pagedllm {

void register_metrics_route(httplib::Server& server, ServerContext& context) {
  server.Get("/metrics", [&context](const httplib::Request&, httplib::Response& response) {
    response.set_content(prometheus_text(context.engine.stats(), context.model_name),
                         "text/plain; version=0.0.4; charset=utf-8");
  });
}

}  // namespace pagedllm
