// One client connection as cpp-httplib reads and writes it, with the checks httplib 0.11 lacks.
//
// httplib's own socket stream buffers what it reads, but its keep-alive loop polls the socket instead of that
// buffer, so pipelined requests already read sat unanswered until the 5 s keep-alive timeout. This stream keeps the
// buffer visible (has_buffered_input), bounds the time a request head may take to arrive (a client sending one
// byte every 2 s no longer holds a thread for as long as it likes), and keeps the raw head so that the server can
// refuse what httplib silently skips (a header line without a colon).
//
// Thread-safety: one connection, one thread (the HTTP worker serving it).
#pragma once

#include <chrono>
#include <string>

#include <httplib.h>

namespace pagedllm {

class ConnectionStream final : public httplib::Stream {
 public:
  using Clock = std::chrono::steady_clock;

  ConnectionStream(int fd, std::chrono::milliseconds read_timeout, std::chrono::milliseconds write_timeout);

  // Waits up to `timeout` for the first byte of the next request (bytes already buffered count). False when the
  // peer closed, the wait timed out or the socket failed.
  bool wait_for_request(std::chrono::milliseconds timeout);
  // Starts a request: its head (request line and headers, up to the empty line) must be read by `head_deadline`.
  void begin_request(Clock::time_point head_deadline);
  // The bytes of the current request's head read so far (capped at kMaxHeadBytes).
  const std::string& head() const { return head_; }
  bool is_head_complete() const { return is_head_complete_; }
  bool has_head_timed_out() const { return has_head_timed_out_; }
  bool has_buffered_input() const { return begin_ < end_; }
  // Bytes handed to httplib since the connection opened, and since the current request's head ended.
  size_t num_bytes_read() const { return num_bytes_read_; }
  size_t num_body_bytes_read() const { return is_head_complete_ ? num_bytes_read_ - head_end_ : 0; }
  // Reads and drops up to `size` bytes of the current request's body; false when the connection fails first.
  bool discard(size_t size);

  bool is_readable() const override;
  bool is_writable() const override;
  ssize_t read(char* ptr, size_t size) override;
  ssize_t write(const char* ptr, size_t size) override;
  void get_remote_ip_and_port(std::string& ip, int& port) const override;
  void get_local_ip_and_port(std::string& ip, int& port) const override;
  socket_t socket() const override { return fd_; }

  static constexpr size_t kMaxHeadBytes = 64 * 1024;

 private:
  // Reads what the socket has into buffer_ (empty), waiting at most the read timeout and the head deadline.
  bool fill();
  void record_head(const char* data, size_t size);

  int fd_;
  std::chrono::milliseconds read_timeout_;
  std::chrono::milliseconds write_timeout_;
  char buffer_[16 * 1024];
  size_t begin_ = 0;  // buffer_[begin_, end_) is read from the socket and not yet handed out
  size_t end_ = 0;
  std::string head_;
  bool is_head_complete_ = true;
  bool has_head_timed_out_ = false;
  size_t num_bytes_read_ = 0;
  size_t head_end_ = 0;  // num_bytes_read_ where the current request's head ended
  size_t line_start_ = 0;  // where the head's current line starts in head_
  Clock::time_point head_deadline_;
};

}  // namespace pagedllm
