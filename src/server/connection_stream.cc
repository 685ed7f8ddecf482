#include "server/connection_stream.h"

#include <arpa/inet.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace pagedllm {
namespace {

void address_text(const sockaddr_storage& address, std::string& ip, int& port) {
  char text[INET6_ADDRSTRLEN] = {};
  if (address.ss_family == AF_INET) {
    const auto* v4 = reinterpret_cast<const sockaddr_in*>(&address);
    inet_ntop(AF_INET, &v4->sin_addr, text, sizeof(text));
    port = ntohs(v4->sin_port);
  } else if (address.ss_family == AF_INET6) {
    const auto* v6 = reinterpret_cast<const sockaddr_in6*>(&address);
    inet_ntop(AF_INET6, &v6->sin6_addr, text, sizeof(text));
    port = ntohs(v6->sin6_port);
  }
  ip = text;
}

// poll() for one event; false on timeout or error. Retries on EINTR.
bool poll_for(int fd, short events, std::chrono::milliseconds timeout) {
  pollfd entry{fd, events, 0};
  int timeout_ms = static_cast<int>(std::max<int64_t>(0, timeout.count()));
  for (;;) {
    int rc = ::poll(&entry, 1, timeout_ms);
    if (rc < 0 && errno == EINTR) continue;
    return rc > 0 && (entry.revents & (events | POLLHUP)) != 0 && (entry.revents & (POLLERR | POLLNVAL)) == 0;
  }
}

}  // namespace

ConnectionStream::ConnectionStream(int fd, std::chrono::milliseconds read_timeout,
                                   std::chrono::milliseconds write_timeout)
    : fd_(fd), read_timeout_(read_timeout), write_timeout_(write_timeout) {}

bool ConnectionStream::wait_for_request(std::chrono::milliseconds timeout) {
  if (has_buffered_input()) return true;
  if (!poll_for(fd_, POLLIN, timeout)) return false;
  begin_ = 0;
  ssize_t n = ::recv(fd_, buffer_, sizeof(buffer_), 0);
  end_ = n > 0 ? static_cast<size_t>(n) : 0;
  return n > 0;
}

void ConnectionStream::begin_request(Clock::time_point head_deadline) {
  head_.clear();
  line_start_ = 0;
  is_head_complete_ = false;
  has_head_timed_out_ = false;
  head_deadline_ = head_deadline;
}

bool ConnectionStream::fill() {
  std::chrono::milliseconds timeout = read_timeout_;
  if (!is_head_complete_) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(head_deadline_ - Clock::now());
    if (left.count() <= 0) {
      has_head_timed_out_ = true;
      return false;
    }
    timeout = std::min(timeout, left);
  }
  if (!poll_for(fd_, POLLIN, timeout)) {
    if (!is_head_complete_ && Clock::now() >= head_deadline_) has_head_timed_out_ = true;
    return false;
  }
  ssize_t n;
  do {
    n = ::recv(fd_, buffer_, sizeof(buffer_), 0);
  } while (n < 0 && errno == EINTR);
  if (n <= 0) return false;
  begin_ = 0;
  end_ = static_cast<size_t>(n);
  return true;
}

void ConnectionStream::record_head(const char* data, size_t size) {
  // httplib reads the head one byte at a time, so the head ends exactly at the byte that completes "\r\n\r\n"
  // (or an empty line); everything after it is body.
  for (size_t i = 0; i < size && !is_head_complete_; ++i) {
    if (head_.size() < kMaxHeadBytes) head_.push_back(data[i]);
    if (data[i] != '\n') continue;
    size_t line_length = head_.size() - line_start_;
    bool is_empty_line = line_length == 2 || line_length == 1;
    // Leading empty lines before the request line are allowed (RFC 9112 2.2) and do not end the head.
    if (is_empty_line && line_start_ > 0) {
      is_head_complete_ = true;
      head_end_ = num_bytes_read_ + i + 1;
    }
    if (is_empty_line && line_start_ == 0) head_.clear();
    line_start_ = head_.size();
  }
}

bool ConnectionStream::discard(size_t size) {
  char scratch[4096];
  while (size > 0) {
    ssize_t n = read(scratch, std::min(size, sizeof(scratch)));
    if (n <= 0) return false;
    size -= static_cast<size_t>(n);
  }
  return true;
}

bool ConnectionStream::is_readable() const {
  return has_buffered_input() || poll_for(fd_, POLLIN, std::chrono::milliseconds(0));
}

bool ConnectionStream::is_writable() const { return poll_for(fd_, POLLOUT, write_timeout_); }

ssize_t ConnectionStream::read(char* ptr, size_t size) {
  if (!has_buffered_input() && !fill()) return -1;
  size_t n = std::min(size, end_ - begin_);
  std::memcpy(ptr, buffer_ + begin_, n);
  begin_ += n;
  if (!is_head_complete_) record_head(ptr, n);
  num_bytes_read_ += n;
  return static_cast<ssize_t>(n);
}

ssize_t ConnectionStream::write(const char* ptr, size_t size) {
  // Answering ends the head phase: a handler that answers early (400 on a bad head) must not be cut off by it.
  if (!is_head_complete_) {
    is_head_complete_ = true;
    head_end_ = num_bytes_read_;
  }
  if (!poll_for(fd_, POLLOUT, write_timeout_)) return -1;
  ssize_t n;
  do {
    n = ::send(fd_, ptr, size, MSG_NOSIGNAL);
  } while (n < 0 && errno == EINTR);
  return n;
}

void ConnectionStream::get_remote_ip_and_port(std::string& ip, int& port) const {
  sockaddr_storage address{};
  socklen_t length = sizeof(address);
  if (::getpeername(fd_, reinterpret_cast<sockaddr*>(&address), &length) == 0) address_text(address, ip, port);
}

void ConnectionStream::get_local_ip_and_port(std::string& ip, int& port) const {
  sockaddr_storage address{};
  socklen_t length = sizeof(address);
  if (::getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length) == 0) address_text(address, ip, port);
}

}  // namespace pagedllm
