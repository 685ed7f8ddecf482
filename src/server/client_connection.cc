#include "server/client_connection.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <cstdlib>
#include <string>

#include <httplib.h>

#include "server/http_server.h"

namespace pagedllm {
namespace {

bool address_matches(const sockaddr_storage& address, const std::string& ip, int port) {
  char text[INET6_ADDRSTRLEN] = {};
  if (address.ss_family == AF_INET) {
    const auto* v4 = reinterpret_cast<const sockaddr_in*>(&address);
    inet_ntop(AF_INET, &v4->sin_addr, text, sizeof(text));
    return ntohs(v4->sin_port) == port && (ip.empty() || ip == text);
  }
  if (address.ss_family == AF_INET6) {
    const auto* v6 = reinterpret_cast<const sockaddr_in6*>(&address);
    inet_ntop(AF_INET6, &v6->sin6_addr, text, sizeof(text));
    return ntohs(v6->sin6_port) == port && (ip.empty() || ip == text);
  }
  return false;
}

bool is_socket_of(int fd, const httplib::Request& request) {
  struct stat info {};
  if (fstat(fd, &info) != 0 || !S_ISSOCK(info.st_mode)) return false;
  sockaddr_storage local{}, peer{};
  socklen_t local_len = sizeof(local), peer_len = sizeof(peer);
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&local), &local_len) != 0) return false;
  if (getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &peer_len) != 0) return false;
  return address_matches(local, "", request.local_port) &&
         address_matches(peer, request.remote_addr, request.remote_port);
}

}  // namespace

ClientConnection::ClientConnection(const httplib::Request& request) {
  if (request.remote_port <= 0 || request.local_port <= 0) return;
  // The usual case: the handler runs on the thread serving the connection, which knows its socket.
  if (int fd = current_connection_socket(); fd >= 0 && is_socket_of(fd, request)) {
    fd_ = fd;
    return;
  }
  DIR* dir = opendir("/proc/self/fd");
  if (dir == nullptr) return;
  while (dirent* entry = readdir(dir)) {
    char* end = nullptr;
    long fd = std::strtol(entry->d_name, &end, 10);
    if (end == entry->d_name || *end != '\0' || fd == dirfd(dir)) continue;
    if (is_socket_of(static_cast<int>(fd), request)) {
      fd_ = static_cast<int>(fd);
      break;
    }
  }
  closedir(dir);
}

bool ClientConnection::is_closed() const {
  if (fd_ < 0) return false;
  pollfd entry{fd_, POLLRDHUP, 0};
  if (poll(&entry, 1, 0) <= 0) return false;
  return (entry.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL)) != 0;
}

}  // namespace pagedllm
