// cpp-httplib's server with our own connection loop (process_and_close_socket), which httplib 0.11 lets a
// subclass replace. What the loop adds, and why it is here rather than in a knob of httplib:
// - TCP_NODELAY on every accepted socket: without it, Nagle's algorithm held every response after the first on a
//   kept-alive connection until the client's delayed ACK (~40 ms).
// - pipelined requests are answered in order (see connection_stream.h);
// - a deadline for each request head, and a cap on open connections per client address (httplib has only a
//   per-read timeout and no notion of a client);
// - a request whose head is malformed, or whose body cannot be read safely (no or a bad Content-Length), is
//   answered at once and the connection closed, instead of httplib waiting 5 s for a body that never comes.
// - stop_accepting()/stop_now() work whether or not listen() has started yet (httplib's stop() does nothing
//   before it has, and listen() would then serve forever).
//
// Thread-safety: each connection is served on one worker thread; the per-address counts are locked.
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include <httplib.h>

namespace pagedllm {

struct ConnectionLimits {
  std::chrono::milliseconds head_timeout{10'000};  // the request line and headers must arrive within this
  int max_connections_per_client = 128;            // open connections per client IP; more are answered 503
  size_t max_request_body = 16u << 20;             // bytes; a larger Content-Length is answered 413 at once
};

// A request refused before routing: status, message, and the connection closes after the answer.
struct HeadRejection {
  int status = 400;
  std::string message;
};

// Checks of a request head that httplib does not make. `raw_head` is the head as received.
std::optional<HeadRejection> check_request_head(const httplib::Request& request, const std::string& raw_head,
                                                size_t max_request_body);

// The rejection of the request being served on this thread, if any (set before routing, read by the pre-routing
// handler, which answers it).
std::optional<HeadRejection> current_head_rejection();

// Makes the connection served on this thread close after the current response (a handler's
// "Connection: close" header alone does not end httplib's keep-alive loop).
void close_connection_after_response();

// The socket of the connection served on this thread; -1 on a thread that serves none.
int current_connection_socket();

class HttpServer : public httplib::Server {
 public:
  explicit HttpServer(ConnectionLimits limits);

  // httplib listens with a backlog of 5 (compiled into the library): a burst of 40 connections overflowed the
  // accept queue and the kernel dropped the rest, which then waited on SYN retransmits. Listening again on the
  // bound socket raises it. Call after binding.
  void raise_listen_backlog(int backlog);

  // Ends the accept loop; open connections are served to their end (listen() returns after them). Streaming
  // responses go on, since they stop only when the socket is marked invalid.
  void stop_accepting();
  // Ends the accept loop and marks the socket invalid, which ends streams and keep-alive loops too.
  void stop_now();

 private:
  bool process_and_close_socket(socket_t sock) override;
  // Serves requests until the connection ends; has_unread_input: the client may still be sending (a refused
  // request's body), so the socket must be closed lingering.
  bool serve_connection(socket_t sock, bool& has_unread_input);
  bool admit_client(const std::string& address);
  void release_client(const std::string& address);

  ConnectionLimits limits_;
  std::mutex mutex_;
  std::map<std::string, int> num_connections_by_address_;  // GUARDED_BY(mutex_)
};

}  // namespace pagedllm
