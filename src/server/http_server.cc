#include "server/http_server.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
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

// Closes after the client has read our answer. Closing a socket with unread input (the body of a request refused
// from its head) sends a reset, which can destroy the answer in flight; so the write side is shut first and input
// is drained until the client closes, for at most kLingerTime.
void close_lingering(socket_t sock) {
  constexpr auto kLingerTime = std::chrono::seconds(2);
  ::shutdown(sock, SHUT_WR);
  auto deadline = std::chrono::steady_clock::now() + kLingerTime;
  char scratch[16 * 1024];
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    pollfd entry{sock, POLLIN, 0};
    if (left.count() <= 0 || ::poll(&entry, 1, static_cast<int>(left.count())) <= 0) break;
    if (::recv(sock, scratch, sizeof(scratch), 0) <= 0) break;
  }
  ::close(sock);
}

std::string peer_address(socket_t sock) {
  ConnectionStream stream(sock, std::chrono::milliseconds(0), std::chrono::milliseconds(0));
  std::string ip;
  int port = 0;
  stream.get_remote_ip_and_port(ip, port);
  return ip;
}

struct BodyFraming {
  size_t content_length = 0;
  bool is_chunked = false;
};

BodyFraming body_framing(const httplib::Request& request) {
  BodyFraming framing;
  framing.is_chunked = request.has_header("Transfer-Encoding");
  std::string length = request.get_header_value("Content-Length");
  if (is_digits(length)) framing.content_length = std::stoull(length);
  return framing;
}

// False when the connection cannot go on: an unread chunked body (its end is not known without parsing it) or a
// body that does not arrive.
bool skip_unread_body(ConnectionStream& stream, const BodyFraming& framing) {
  size_t num_read = stream.num_body_bytes_read();
  if (framing.is_chunked) return num_read > 0;
  return num_read >= framing.content_length || stream.discard(framing.content_length - num_read);
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
  bool has_unread_input = true;
  if (admit_client(address)) {
    ok = serve_connection(sock, has_unread_input);
    release_client(address);
  } else {
    answer_503_and_close(sock, fmt::format("Too many connections from {} (at most {})", address,
                                            limits_.max_connections_per_client));
  }
  if (has_unread_input) {
    close_lingering(sock);
  } else {
    ::shutdown(sock, SHUT_RDWR);
    ::close(sock);
  }
  return ok;
}

bool HttpServer::serve_connection(socket_t sock, bool& has_unread_input) {
  using std::chrono::milliseconds;
  ConnectionStream stream(sock, milliseconds(read_timeout_sec_ * 1000 + read_timeout_usec_ / 1000),
                          milliseconds(write_timeout_sec_ * 1000 + write_timeout_usec_ / 1000));
  bool ok = true;
  has_unread_input = false;
  t_connection_socket = sock;
  for (size_t count = keep_alive_max_count_; count > 0 && svr_sock_ != INVALID_SOCKET; --count) {
    if (!stream.wait_for_request(milliseconds(keep_alive_timeout_sec_ * 1000))) break;
    stream.begin_request(ConnectionStream::Clock::now() + limits_.head_timeout);
    t_rejection.reset();
    t_close_after_response = false;
    bool connection_closed = false;
    size_t num_bytes_before = stream.num_bytes_read();
    BodyFraming framing;
    ok = process_request(stream, count == 1, connection_closed, [&](httplib::Request& request) {
      t_rejection = check_request_head(request, stream.head(), limits_.max_request_body);
      // The body of a refused request is not read, so nothing after it on this connection can be parsed.
      if (t_rejection) request.set_header("Connection", "close");
      framing = body_framing(request);
    });
    bool was_rejected = t_rejection.has_value();
    t_rejection.reset();
    if (stream.num_bytes_read() - num_bytes_before >= kTrimAfterRequestBytes) return_freed_memory();
    has_unread_input = was_rejected || stream.has_head_timed_out();
    if (!ok || connection_closed || has_unread_input || t_close_after_response) break;
    // A response given before routing read the body (401, 503 while draining) leaves the body on the connection;
    // the next request starts after it.
    if (!skip_unread_body(stream, framing)) {
      has_unread_input = true;
      break;
    }
  }
  t_connection_socket = -1;
  return ok;
}

}  // namespace pagedllm
