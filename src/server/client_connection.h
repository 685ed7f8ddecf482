// Whether the client of an HTTP request is still connected.
//
// cpp-httplib 0.11 hands a handler neither the connection's socket nor its state, and a streamed write into a
// socket whose peer has gone may still succeed once (the kernel buffers it). So the socket is taken from our
// connection loop (http_server.h) when the handler runs on its thread, else found by its address pair (local port,
// peer address and port, unique among open TCP connections) among this process's file descriptors, and polled for
// POLLRDHUP: the peer closed or reset the connection.
//
// Thread-safety: the handler's thread owns the connection, so the descriptor stays open and is not reused while
// the handler runs; is_closed() may be called from that thread at any time.
#pragma once

namespace httplib {
struct Request;
}

namespace pagedllm {

class ClientConnection {
 public:
  // Finds the request's socket; when it cannot be found (not TCP, /proc unavailable), is_closed() is always false
  // and only a failed write reveals a disconnect.
  explicit ClientConnection(const httplib::Request& request);

  bool is_closed() const;
  bool is_found() const { return fd_ >= 0; }

 private:
  int fd_ = -1;
};

}  // namespace pagedllm
