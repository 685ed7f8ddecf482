// GET /version: {"version": "..."}.
#include <httplib.h>

#include "server/response_common.h"
#include "server/routes.h"
#include "server/server_context.h"

namespace pagedllm {

void register_version_route(httplib::Server& server, ServerContext& context) {
  server.Get("/version", [&context](const httplib::Request&, httplib::Response& response) {
    set_json_response(response, {{"version", context.config.version}});
  });
}

}  // namespace pagedllm
