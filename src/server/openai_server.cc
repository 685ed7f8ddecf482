#include "server/openai_server.h"

#include <netdb.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <map>
#include <cstring>

#include <httplib.h>

#include "server/access_log.h"
#include "server/api_error.h"
#include "server/http_server.h"
#include "server/routes.h"
#include "server/server_context.h"

namespace pagedllm {
namespace {

// Keep-alive connections serve this many requests before closing (httplib's default of 5 made OpenAI clients
// reconnect every fifth request).
constexpr size_t kMaxRequestsPerConnection = 10000;
// Connections the kernel queues before accept(); bursts of OpenAI clients open dozens at once.
constexpr int kListenBacklog = 1024;


// The routes and their methods, for 405 answers to a known path with another method.
const char* allowed_method(const std::string& path) {
  static const std::map<std::string, const char*> kRoutes = {
      {"/v1/models", "GET"},     {"/health", "GET"},      {"/version", "GET"},    {"/metrics", "GET"},
      {"/v1/completions", "POST"}, {"/v1/chat/completions", "POST"}, {"/tokenize", "POST"}, {"/detokenize", "POST"}};
  auto it = kRoutes.find(path);
  return it == kRoutes.end() ? nullptr : it->second;
}

bool is_authorized(const httplib::Request& request, const std::string& api_key) {
  if (api_key.empty() || request.path.rfind("/v1", 0) != 0) return true;
  return request.get_header_value("Authorization") == "Bearer " + api_key;
}

void install_middleware(HttpServer& http, ServerContext& context) {
  http.set_pre_routing_handler([&context](const httplib::Request& request, httplib::Response& response) {
    if (std::optional<HeadRejection> rejection = current_head_rejection()) {
      set_error_response(response, {rejection->status, rejection->message, ""});
      response.set_header("Connection", "close");
      return httplib::Server::HandlerResponse::Handled;
    }
    if (!is_authorized(request, context.config.api_key)) {
      set_error_response(response, {401, "Unauthorized: a valid API key is required (Authorization: Bearer ...)", ""});
      return httplib::Server::HandlerResponse::Handled;
    }
    if (context.is_draining) {
      set_error_response(response, {503, "The server is shutting down", ""});
      response.set_header("Connection", "close");
      close_connection_after_response();
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
    const char* allowed = allowed_method(request.path);
    if ((response.status == 404 || response.status == 400) && allowed != nullptr && request.method != allowed) {
      set_error_response(response, {405, fmt::format("Method Not Allowed: {} {} (allowed: {})", request.method,
                                                     request.path, allowed), ""});
      response.set_header("Allow", allowed);
    } else if (response.status == 404) {
      set_error_response(response, {404, fmt::format("Not Found: {} {}", request.method, request.path), ""});
    } else if (response.status == 413) {
      set_error_response(response, {413, "The request body is larger than the server accepts (--max-request-body)", ""});
    } else {
      set_error_response(response, {response.status, fmt::format("HTTP error {}", response.status), ""});
    }
    return httplib::Server::HandlerResponse::Handled;
  }));
}

ConnectionLimits connection_limits(const ServerConfig& config) {
  ConnectionLimits limits;
  limits.head_timeout = std::chrono::milliseconds(static_cast<int64_t>(config.request_head_timeout_s * 1000));
  limits.max_connections_per_client = config.max_connections_per_client;
  limits.max_request_body = config.max_request_body;
  return limits;
}

// httplib reports a failed bind as `false` only; binding a probe socket the same way recovers the reason
// ("Address already in use", "Cannot assign requested address", ...).
std::string bind_failure_reason(const std::string& host, int port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  addrinfo* result = nullptr;
  int rc = ::getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &result);
  if (rc != 0) return fmt::format("cannot resolve the host: {}", gai_strerror(rc));
  std::string reason = "unknown error";
  for (addrinfo* a = result; a != nullptr; a = a->ai_next) {
    int sock = ::socket(a->ai_family, a->ai_socktype, a->ai_protocol);
    if (sock < 0) {
      reason = std::strerror(errno);
      continue;
    }
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
    bool is_bound = ::bind(sock, a->ai_addr, a->ai_addrlen) == 0 && ::listen(sock, 1) == 0;
    if (!is_bound) reason = std::strerror(errno);
    ::close(sock);
    if (!is_bound) break;
  }
  ::freeaddrinfo(result);
  return reason;
}

}  // namespace

OpenAIServer::OpenAIServer(EngineClient& engine, ServerConfig config)
    : context_(std::make_unique<ServerContext>(engine, std::move(config))),
      http_(std::make_unique<HttpServer>(connection_limits(context_->config))) {
  const ServerConfig& cfg = context_->config;
  if (cfg.port < 0 || cfg.port > 65535) {
    throw_error(ErrorKind::kInvalidArgument, "--port must be in [0, 65535], got {}", cfg.port);
  }
  size_t num_threads = static_cast<size_t>(std::max(1, cfg.num_http_threads));
  http_->new_task_queue = [num_threads] { return new httplib::ThreadPool(num_threads); };
  http_->set_payload_max_length(cfg.max_request_body);
  http_->set_keep_alive_max_count(kMaxRequestsPerConnection);
  // httplib's default socket options add SO_REUSEPORT, with which a second server on the same port binds and
  // takes half the connections; SO_REUSEADDR alone still allows a restart while old connections linger.
  http_->set_socket_options([](socket_t sock) {
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });
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
  http_->raise_listen_backlog(kListenBacklog);
  if (port_ <= 0) {
    throw_error(ErrorKind::kIo, "cannot listen on {}:{}: {}", cfg.host, cfg.port, bind_failure_reason(cfg.host, cfg.port));
  }
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
