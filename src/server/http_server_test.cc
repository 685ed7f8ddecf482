// The connection loop of http_server.h over raw sockets: what a client sees byte for byte.
#include "server/http_server.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdlib>

#include "server/test_server_fixture.h"

namespace pagedllm {
namespace {

class RawClient {
 public:
  explicit RawClient(int port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<uint16_t>(port));
    inet_pton(AF_INET, "127.0.0.1", &address.sin_addr);
    EXPECT_EQ(::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
  }
  ~RawClient() { close(); }
  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  bool send(const std::string& bytes) {
    return ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(bytes.size());
  }
  // Everything until the server closes the connection (or 20 s pass, which fails the caller's checks).
  std::string read_to_end() {
    std::string all;
    char buffer[4096];
    for (;;) {
      pollfd entry{fd_, POLLIN, 0};
      if (::poll(&entry, 1, 20000) <= 0) break;
      ssize_t n = ::recv(fd_, buffer, sizeof(buffer), 0);
      if (n <= 0) break;
      all.append(buffer, static_cast<size_t>(n));
    }
    return all;
  }
  // Reads until `count` responses with bodies have arrived (Content-Length framing).
  std::string read_responses(int count) {
    std::string all;
    char buffer[4096];
    while (count_complete_responses(all) < count) {
      pollfd entry{fd_, POLLIN, 0};
      if (::poll(&entry, 1, 20000) <= 0) break;
      ssize_t n = ::recv(fd_, buffer, sizeof(buffer), 0);
      if (n <= 0) break;
      all.append(buffer, static_cast<size_t>(n));
    }
    return all;
  }
  // True once the server has closed its side (no data pending, EOF).
  bool is_closed_by_server() {
    char byte;
    ssize_t n = ::recv(fd_, &byte, 1, MSG_DONTWAIT | MSG_PEEK);
    return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
  }
  int local_port() const {
    sockaddr_in address{};
    socklen_t length = sizeof(address);
    getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length);
    return ntohs(address.sin_port);
  }

 private:
  static int count_complete_responses(const std::string& all) {
    int count = 0;
    size_t at = 0;
    for (;;) {
      size_t head_end = all.find("\r\n\r\n", at);
      if (head_end == std::string::npos) return count;
      size_t length_at = all.find("Content-Length: ", at);
      size_t length = length_at < head_end ? std::stoul(all.substr(length_at + 16)) : 0;
      if (all.size() < head_end + 4 + length) return count;
      at = head_end + 4 + length;
      ++count;
    }
  }
  int fd_ = -1;
};

int count_of(const std::string& text, const std::string& needle) {
  int count = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++count;
  return count;
}

std::string status_line(const std::string& response) { return response.substr(0, response.find("\r\n")); }

class HttpServerTest : public ServerFixture {
 protected:
  std::string exchange(const std::string& request) {
    RawClient client(server_->bound_port());
    client.send(request);
    return client.read_to_end();
  }
};

// The server's end of a connection: the socket in this process whose peer port is the client's local port.
int server_socket_for(int client_port, int server_port) {
  int found = -1;
  DIR* dir = opendir("/proc/self/fd");
  while (dirent* entry = readdir(dir)) {
    int fd = std::atoi(entry->d_name);
    sockaddr_in local{}, peer{};
    socklen_t local_length = sizeof(local), peer_length = sizeof(peer);
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&local), &local_length) != 0) continue;
    if (getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &peer_length) != 0) continue;
    if (local.sin_family == AF_INET && ntohs(local.sin_port) == server_port && ntohs(peer.sin_port) == client_port) {
      found = fd;
    }
  }
  closedir(dir);
  return found;
}

TEST_F(HttpServerTest, AcceptedSocketsSendWithoutNagleDelay) {
  RawClient client(server_->bound_port());
  client.send("GET /health HTTP/1.1\r\nHost: x\r\n\r\n");
  ASSERT_EQ(status_line(client.read_responses(1)), "HTTP/1.1 200 OK");
  int fd = server_socket_for(client.local_port(), server_->bound_port());
  ASSERT_GE(fd, 0);
  int value = 0;
  socklen_t length = sizeof(value);
  ASSERT_EQ(getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &value, &length), 0);
  EXPECT_EQ(value, 1);
}

TEST_F(HttpServerTest, PipelinedRequestsAreAnsweredInOrder) {
  std::string response = exchange(
      "GET /version HTTP/1.1\r\nHost: x\r\n\r\n"
      "GET /health HTTP/1.1\r\nHost: x\r\n\r\n"
      "GET /v1/models HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(count_of(response, "HTTP/1.1 200 OK\r\n"), 3) << response;
  size_t version = response.find("{\"version\"");
  size_t models = response.find("\"object\":\"list\"");
  ASSERT_NE(version, std::string::npos);
  ASSERT_NE(models, std::string::npos);
  EXPECT_LT(version, models);
}

TEST_F(HttpServerTest, KeptAliveConnectionServesManyRequests) {
  RawClient client(server_->bound_port());
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(client.send("GET /health HTTP/1.1\r\nHost: x\r\n\r\n"));
    std::string response = client.read_responses(1);
    ASSERT_EQ(status_line(response), "HTTP/1.1 200 OK") << i;
    EXPECT_EQ(response.find("Connection: close"), std::string::npos) << i;
  }
}

TEST_F(HttpServerTest, BadContentLengthIsRefusedAtOnce) {
  std::string negative = exchange("POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n");
  EXPECT_EQ(status_line(negative), "HTTP/1.1 400 Bad Request");
  EXPECT_NE(negative.find("Content-Length must be a non-negative integer, got \\\"-1\\\""), std::string::npos)
      << negative;
  EXPECT_NE(negative.find("Connection: close"), std::string::npos);

  std::string missing = exchange("POST /v1/completions HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(status_line(missing), "HTTP/1.1 411 Length Required");
  EXPECT_NE(missing.find("POST requires a Content-Length"), std::string::npos) << missing;

  std::string huge = exchange("POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 999999999999\r\n\r\n");
  EXPECT_EQ(status_line(huge), "HTTP/1.1 413 Payload Too Large");

  std::string both = exchange(
      "POST /tokenize HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n{}");
  EXPECT_EQ(status_line(both), "HTTP/1.1 400 Bad Request");
  std::string twice = exchange("POST /tokenize HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\n{}");
  EXPECT_EQ(status_line(twice), "HTTP/1.1 400 Bad Request");
}

TEST_F(HttpServerTest, MalformedHeadsAreRefused) {
  std::string no_colon = exchange("GET /health HTTP/1.1\r\nHost: x\r\nBroken header line\r\n\r\n");
  EXPECT_EQ(status_line(no_colon), "HTTP/1.1 400 Bad Request");
  EXPECT_NE(no_colon.find("Malformed header line (no name: value): \\\"Broken header line\\\""), std::string::npos)
      << no_colon;
  std::string two_keys = exchange(
      "GET /v1/models HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer a\r\nAuthorization: Bearer b\r\n\r\n");
  EXPECT_EQ(status_line(two_keys), "HTTP/1.1 400 Bad Request");
  EXPECT_NE(two_keys.find("only one Authorization header"), std::string::npos);
}

TEST_F(HttpServerTest, WrongMethodOnAKnownPathIs405) {
  std::string get_post_route = exchange("GET /v1/completions HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(status_line(get_post_route), "HTTP/1.1 405 Method Not Allowed");
  EXPECT_NE(get_post_route.find("Allow: POST\r\n"), std::string::npos) << get_post_route;
  EXPECT_NE(get_post_route.find("\"type\":\"BadRequestError\""), std::string::npos);
  std::string delete_get_route = exchange(
      "DELETE /v1/models HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(status_line(delete_get_route), "HTTP/1.1 405 Method Not Allowed");
  EXPECT_NE(delete_get_route.find("Allow: GET\r\n"), std::string::npos);
  EXPECT_EQ(status_line(exchange("GET /nowhere HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")),
            "HTTP/1.1 404 Not Found");
}

TEST_F(HttpServerTest, SlowHeadIsCutAtTheDeadline) {
  ServerConfig config = default_config();
  config.request_head_timeout_s = 0.3;
  restart(config);
  RawClient client(server_->bound_port());
  const std::string head = "GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n";
  size_t num_sent = 0;
  for (; num_sent < head.size() && !client.is_closed_by_server(); ++num_sent) {
    client.send(head.substr(num_sent, 1));
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_LT(num_sent, head.size()) << "the server waited for the whole head, one byte per 50 ms";
}

TEST_F(HttpServerTest, ConnectionsPerClientAddressAreCapped) {
  ServerConfig config = default_config();
  config.max_connections_per_client = 2;
  restart(config);
  RawClient first(server_->bound_port());
  RawClient second(server_->bound_port());
  for (RawClient* client : {&first, &second}) {
    client->send("GET /health HTTP/1.1\r\nHost: x\r\n\r\n");
    ASSERT_EQ(status_line(client->read_responses(1)), "HTTP/1.1 200 OK");
  }
  std::string refused = exchange("GET /health HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(status_line(refused), "HTTP/1.1 503 Service Unavailable");
  EXPECT_NE(refused.find("Too many connections from 127.0.0.1 (at most 2)"), std::string::npos) << refused;
  first.close();
  second.close();
  int status = 0;
  for (int attempt = 0; attempt < 200 && status != 200; ++attempt) {
    status = get("/health").status;
    if (status != 200) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(status, 200) << "closed connections no longer count";
}

TEST_F(HttpServerTest, BodyLeftUnreadByAnEarlyAnswerIsSkipped) {
  ServerConfig config = default_config();
  config.api_key = "key";
  restart(config);
  std::string response = exchange(
      "POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 16\r\n\r\n{\"prompt\": \"Hi\"}"
      "GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(status_line(response), "HTTP/1.1 401 Unauthorized");
  EXPECT_EQ(count_of(response, "HTTP/1.1 200 OK\r\n"), 1) << response;
}

TEST_F(HttpServerTest, OversizedBodyGets413WhileTheClientIsStillSending) {
  ServerConfig config = default_config();
  config.max_request_body = 1000;
  restart(config);
  RawClient client(server_->bound_port());
  client.send("POST /tokenize HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 4000000\r\n\r\n");
  std::string chunk(64 * 1024, ' ');
  for (int i = 0; i < 8; ++i) client.send(chunk);  // the server drains it while it lingers
  std::string response = client.read_to_end();
  EXPECT_EQ(status_line(response), "HTTP/1.1 413 Payload Too Large");
  EXPECT_NE(response.find("--max-request-body"), std::string::npos);
}

TEST(CheckRequestHeadTest, AcceptsWellFormedHeads) {
  httplib::Request request;
  request.method = "POST";
  request.set_header("Content-Length", "12");
  EXPECT_FALSE(check_request_head(request, "POST / HTTP/1.1\r\nContent-Length: 12\r\n\r\n", 100).has_value());
  request.headers.clear();
  request.set_header("Transfer-Encoding", "chunked");
  EXPECT_FALSE(check_request_head(request, "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", 100));
  httplib::Request get;
  get.method = "GET";
  EXPECT_FALSE(check_request_head(get, "GET / HTTP/1.1\r\n\r\n", 100).has_value());
}

}  // namespace
}  // namespace pagedllm
