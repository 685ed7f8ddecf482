#include "server/http_server.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>

#include <fmt/format.h>

#include "server/api_error.h"
#include "server/connection_stream.h"
#include "server/server_memory.h"

namespace pagedllm {
namespace {

thread_local std::optional<HeadRejection> t_rejection;
thread_local int t_connection_socket = -1;
thread_local bool t_close_after_response = false;

bool is_digits(const std::string& text) {
  return !text.empty() && text.size() <= 19 && text.find_first_not_of("0123456789") == std::string::npos;
}

bool expects_body(const std::string& method) { return method == "POST" || method == "PUT" || method == "PATCH"; }

// Every line after the request line must be "name: value" and end with CRLF; httplib skips such lines.
std::optional<HeadRejection> check_header_lines(const std::string& raw_head) {
  size_t start = raw_head.find('\n');
  if (start == std::string::npos) return std::nullopt;
  for (++start; start < raw_head.size();) {
    size_t end = raw_head.find('\n', start);
    if (end == std::string::npos) break;
    std::string line = raw_head.substr(start, end - start);
    start = end + 1;
    if (line.empty() || line == "\r") break;
    if (line.back() != '\r') return HeadRejection{400, "Malformed request head: a header line does not end in CRLF"};
    size_t colon = line.find(':');
    if (colon == std::string::npos || colon == 0) {
      return HeadRejection{400, fmt::format("Malformed header line (no name: value): \"{}\"",
                                            line.substr(0, std::min<size_t>(line.size() - 1, 80)))};
    }
  }
  return std::nullopt;
}

std::optional<HeadRejection> check_body_framing(const httplib::Request& request, size_t max_request_body) {
  size_t num_lengths = request.get_header_value_count("Content-Length");
  bool is_chunked = request.has_header("Transfer-Encoding");
  if (is_chunked && request.get_header_value("Transfer-Encoding") != "chunked") {
    return HeadRejection{501, fmt::format("Transfer-Encoding {} is not supported",
                                          request.get_header_value("Transfer-Encoding"))};
  }
  if (is_chunked && num_lengths > 0) {
    return HeadRejection{400, "A request may not carry both Content-Length and Transfer-Encoding"};
  }
  if (num_lengths > 1) return HeadRejection{400, "A request may carry only one Content-Length"};
  if (num_lengths == 1) {
    std::string text = request.get_header_value("Content-Length");
    if (!is_digits(text)) {
      return HeadRejection{400, fmt::format("Content-Length must be a non-negative integer, got \"{}\"", text)};
    }
    if (std::stoull(text) > max_request_body) {
      return HeadRejection{413, "The request body is larger than the server accepts (--max-request-body)"};
    }
  } else if (!is_chunked && expects_body(request.method)) {
    return HeadRejection{411, fmt::format("{} requires a Content-Length", request.method)};
  }
  return std::nullopt;
}

void enable_tcp_nodelay(socket_t sock) {
  int yes = 1;
  ::setsockopt(sock, IPPROTO_TCP, TCP_NODELAY, &yes, sizeof(yes));
}

// For a connection refused before httplib reads from it.
void answer_503_and_close(socket_t sock, const std::string& message) {
  std::string body = error_json({503, message, ""}).dump();
  std::string response = fmt::format(
      "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nContent-Length: {}\r\n"
      "Connection: close\r\n\r\n{}",
      body.size(), body);
  (void)::send(sock, response.data(), response.size(), MSG_NOSIGNAL);
}

std::string peer_address(socket_t sock) {
  ConnectionStream stream(sock, std::chrono::milliseconds(0), std::chrono::milliseconds(0));
  std::string ip;
  int port = 0;
  stream.get_remote_ip_and_port(ip, port);
  return ip;
}

}  // namespace

std::optional<HeadRejection> check_request_head(const httplib::Request& request, const std::string& raw_head,
                                                size_t max_request_body) {
  if (std::optional<HeadRejection> bad_line = check_header_lines(raw_head)) return bad_line;
  if (request.get_header_value_count("Authorization") > 1) {
    return HeadRejection{400, "A request may carry only one Authorization header"};
  }
  return check_body_framing(request, max_request_body);
}

std::optional<HeadRejection> current_head_rejection() { return t_rejection; }

int current_connection_socket() { return t_connection_socket; }

void close_connection_after_response() { t_close_after_response = true; }

HttpServer::HttpServer(ConnectionLimits limits) : limits_(limits) {}

void HttpServer::raise_listen_backlog(int backlog) {
  socket_t sock = svr_sock_;
  if (sock != INVALID_SOCKET) ::listen(sock, backlog);
}

void HttpServer::stop_accepting() {
  socket_t sock = svr_sock_;
  if (sock != INVALID_SOCKET) ::shutdown(sock, SHUT_RDWR);
}

void HttpServer::stop_now() {
  socket_t sock = svr_sock_.exchange(INVALID_SOCKET);
  if (sock == INVALID_SOCKET) return;
  ::shutdown(sock, SHUT_RDWR);
  ::close(sock);
}

bool HttpServer::admit_client(const std::string& address) {
  std::lock_guard<std::mutex> lock(mutex_);
  int& count = num_connections_by_address_[address];
  if (count >= limits_.max_connections_per_client) return false;
  ++count;
  return true;
}

void HttpServer::release_client(const std::string& address) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = num_connections_by_address_.find(address);
  if (it != num_connections_by_address_.end() && --it->second <= 0) num_connections_by_address_.erase(it);
}

bool HttpServer::process_and_close_socket(socket_t sock) {
  enable_tcp_nodelay(sock);
  std::string address = peer_address(sock);
  bool ok = false;
  if (admit_client(address)) {
    ok = serve_connection(sock);
    release_client(address);
  } else {
    answer_503_and_close(sock, fmt::format("Too many connections from {} (at most {})", address,
                                            limits_.max_connections_per_client));
  }
  ::shutdown(sock, SHUT_RDWR);
  ::close(sock);
  return ok;
}

bool HttpServer::serve_connection(socket_t sock) {
  using std::chrono::milliseconds;
  ConnectionStream stream(sock, milliseconds(read_timeout_sec_ * 1000 + read_timeout_usec_ / 1000),
                          milliseconds(write_timeout_sec_ * 1000 + write_timeout_usec_ / 1000));
  bool ok = true;
  t_connection_socket = sock;
  for (size_t count = keep_alive_max_count_; count > 0 && svr_sock_ != INVALID_SOCKET; --count) {
    if (!stream.wait_for_request(milliseconds(keep_alive_timeout_sec_ * 1000))) break;
    stream.begin_request(ConnectionStream::Clock::now() + limits_.head_timeout);
    t_rejection.reset();
    t_close_after_response = false;
    bool connection_closed = false;
    size_t num_bytes_before = stream.num_bytes_read();
    ok = process_request(stream, count == 1, connection_closed, [&](httplib::Request& request) {
      t_rejection = check_request_head(request, stream.head(), limits_.max_request_body);
      // The body of a refused request is not read, so nothing after it on this connection can be parsed.
      if (t_rejection) request.set_header("Connection", "close");
    });
    bool was_rejected = t_rejection.has_value();
    t_rejection.reset();
    if (stream.num_bytes_read() - num_bytes_before >= kTrimAfterRequestBytes) return_freed_memory();
    if (!ok || connection_closed || was_rejected || t_close_after_response || stream.has_head_timed_out()) break;
  }
  t_connection_socket = -1;
  return ok;
}

}  // namespace pagedllm
