#include "server/openai_server.h"

#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <httplib.h>

#include "server/access_log.h"
#include "server/api_error.h"
#include "server/routes.h"
#include "server/server_context.h"

namespace pagedllm {

// httplib::Server with two ways to stop that work whether or not listen() has started yet (httplib's own stop()
// does nothing before it has, and listen() would then serve forever).
class HttpServer : public httplib::Server {
 public:
  // Ends the accept loop; open connections are served to their end (listen() returns after them). Streaming
  // responses go on, since they stop only when the socket is marked invalid.
  void stop_accepting() {
    socket_t sock = svr_sock_;
    if (sock != INVALID_SOCKET) ::shutdown(sock, SHUT_RDWR);
  }
  // Ends the accept loop and marks the socket invalid, which ends streams and keep-alive loops too.
  void stop_now() {
    socket_t sock = svr_sock_.exchange(INVALID_SOCKET);
    if (sock == INVALID_SOCKET) return;
    ::shutdown(sock, SHUT_RDWR);
    ::close(sock);
  }
};

namespace {

bool is_authorized(const httplib::Request& request, const std::string& api_key) {
  if (api_key.empty() || request.path.rfind("/v1", 0) != 0) return true;
  return request.get_header_value("Authorization") == "Bearer " + api_key;
}

void install_middleware(HttpServer& http, ServerContext& context) {
  http.set_pre_routing_handler([&context](const httplib::Request& request, httplib::Response& response) {
    if (!is_authorized(request, context.config.api_key)) {
      set_error_response(response, {401, "Unauthorized: a valid API key is required (Authorization: Bearer ...)", ""});
      return httplib::Server::HandlerResponse::Handled;
    }
    if (context.is_draining) {
      set_error_response(response, {503, "The server is shutting down", ""});
      response.set_header("Connection", "close");
      return httplib::Server::HandlerResponse::Handled;
    }
    return httplib::Server::HandlerResponse::Unhandled;
  });
  http.set_exception_handler([](const httplib::Request&, httplib::Response& response, std::exception_ptr error) {
    set_error_response(response, api_error_from(error));
  });
  // Errors httplib answers itself (no route, body too large) come with an empty body: give them OpenAI's shape.
  http.set_error_handler(httplib::Server::HandlerWithResponse([](const httplib::Request& request,
                                                                 httplib::Response& response) {
    if (!response.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
    if (response.status == 404) {
      set_error_response(response, {404, fmt::format("Not Found: {} {}", request.method, request.path), ""});
    } else if (response.status == 413) {
      set_error_response(response, {413, "The request body is larger than the server accepts (--max-request-body)", ""});
    } else {
      set_error_response(response, {response.status, fmt::format("HTTP error {}", response.status), ""});
    }
    return httplib::Server::HandlerResponse::Handled;
  }));
}

}  // namespace

OpenAIServer::OpenAIServer(EngineClient& engine, ServerConfig config)
    : context_(std::make_unique<ServerContext>(engine, std::move(config))), http_(std::make_unique<HttpServer>()) {
  const ServerConfig& cfg = context_->config;
  size_t num_threads = static_cast<size_t>(std::max(1, cfg.num_http_threads));
  http_->new_task_queue = [num_threads] { return new httplib::ThreadPool(num_threads); };
  http_->set_payload_max_length(cfg.max_request_body);
  install_middleware(*http_, *context_);
  if (cfg.enable_access_log) http_->set_logger(log_access);
  register_models_route(*http_, *context_);
  register_completions_route(*http_, *context_);
  register_chat_completions_route(*http_, *context_);
  register_tokenize_route(*http_, *context_);
  register_detokenize_route(*http_, *context_);
  register_health_route(*http_, *context_);
  register_version_route(*http_, *context_);
  register_metrics_route(*http_, *context_);
  register_web_ui_route(*http_, *context_);
  if (cfg.port == 0) {
    port_ = http_->bind_to_any_port(cfg.host);
  } else if (http_->bind_to_port(cfg.host, cfg.port)) {
    port_ = cfg.port;
  }
  if (port_ <= 0) throw_error(ErrorKind::kIo, "cannot listen on {}:{}", cfg.host, cfg.port);
}

OpenAIServer::~OpenAIServer() = default;

void OpenAIServer::listen() {
  // A client that vanishes mid-write must not kill the process with SIGPIPE.
  ::signal(SIGPIPE, SIG_IGN);
  http_->listen_after_bind();
}

void OpenAIServer::stop() {
  // After stop_accepting() httplib has closed the listening socket itself; stopping it again could close a reused
  // descriptor. Aborting the requests in flight ends their responses either way.
  if (!context_->is_draining.exchange(true)) http_->stop_now();
  abort_all();
}

void OpenAIServer::stop_accepting() {
  context_->is_draining = true;
  http_->stop_accepting();
}

size_t OpenAIServer::num_requests_in_flight() const { return context_->active.size(); }

void OpenAIServer::abort_all() { context_->active.abort_all(context_->engine); }

}  // namespace pagedllm
