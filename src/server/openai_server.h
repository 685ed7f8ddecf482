// The OpenAI-compatible HTTP server (`pagedllm serve`): routes in routes.h, errors in api_error.h.
//
// Requests run on a pool of config.num_http_threads threads; an open connection (a streaming response, or an idle
// keep-alive connection) holds one thread, so the pool bounds concurrent clients. /v1/* requires the API key
// when one is configured. Bodies over config.max_request_body answer 413, unknown routes 404, both in OpenAI's
// error shape.
//
// Thread-safety: listen() blocks in the caller's thread; stop(), stop_accepting() and bound_port() may be called
// from any other thread.
#pragma once

#include <memory>

#include "engine/engine_client.h"
#include "server/server_config.h"

namespace pagedllm {

class ServerContext;
class HttpServer;

class OpenAIServer {
 public:
  // Binds the socket (config.port 0: any free port), so bound_port() is valid when the constructor returns.
  // Throws Error(kInvalidArgument) for a port outside [0, 65535], Error(kIo) with the reason when the address
  // cannot be bound (a port in use: "Address already in use"), or what ServerContext throws (a bad chat template).
  OpenAIServer(EngineClient& engine, ServerConfig config);
  ~OpenAIServer();

  // Serves until stop() or until stop_accepting() and the last connection closes.
  void listen();
  // Ends serving now: aborts every request in flight (streams end with finish_reason "abort") and closes the
  // listening socket.
  void stop();
  // Graceful shutdown, first half: new connections are refused and new requests on open connections get 503;
  // requests in flight continue.
  void stop_accepting();
  // Requests still generating (engine requests of live HTTP requests).
  size_t num_requests_in_flight() const;
  // Aborts every request in flight (they finish with finish_reason "abort").
  void abort_all();

  int bound_port() const { return port_; }

 private:
  std::unique_ptr<ServerContext> context_;
  std::unique_ptr<HttpServer> http_;
  int port_ = -1;
};

}  // namespace pagedllm
