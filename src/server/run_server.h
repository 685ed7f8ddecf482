// `pagedllm serve` after the engine is up: serve HTTP until SIGINT or SIGTERM, then shut down gracefully.
#pragma once

#include "engine/engine_client.h"
#include "server/server_config.h"

namespace pagedllm {

// Serves on config.host:config.port. On the first SIGINT/SIGTERM: stop accepting connections, answer 503 to new
// requests on open ones, wait up to config.shutdown_timeout_s for requests in flight, abort the rest, and return
// 0. A second signal aborts the requests in flight at once. Returns 1 when the server cannot start (the error is
// printed to stderr). The engine is left running; the caller stops it.
int run_server(EngineClient& engine, const ServerConfig& config);

}  // namespace pagedllm
