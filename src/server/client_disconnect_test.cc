// A client that goes away mid-request aborts its engine requests, streaming or not.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "server/test_server_fixture.h"

namespace pagedllm {
namespace {

using nlohmann::json;

// A raw connection, so the test decides exactly when the client disappears.
class RawClient {
 public:
  explicit RawClient(int port) : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<uint16_t>(port));
    inet_pton(AF_INET, "127.0.0.1", &address.sin_addr);
    EXPECT_EQ(::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
  }
  ~RawClient() { close(); }
  void send_post(const std::string& path, const json& body) {
    std::string text = body.dump();
    std::string request = "POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n" +
                          "Content-Length: " + std::to_string(text.size()) + "\r\n\r\n" + text;
    ASSERT_EQ(::send(fd_, request.data(), request.size(), 0), static_cast<ssize_t>(request.size()));
  }
  // Reads until `marker` has arrived (bounded by the socket's 10 s timeout).
  bool read_until(const std::string& marker) {
    timeval timeout{10, 0};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
    char buffer[4096];
    while (received_.find(marker) == std::string::npos) {
      ssize_t n = ::recv(fd_, buffer, sizeof(buffer), 0);
      if (n <= 0) return false;
      received_.append(buffer, static_cast<size_t>(n));
    }
    return true;
  }
  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_;
  std::string received_;
};

class ClientDisconnectTest : public ServerFixture {
 protected:
  // Waits (at most 5 s) until the engine has no request left.
  bool engine_drains() {
    for (int i = 0; i < 500 && engine_.num_running() > 0; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return engine_.num_running() == 0;
  }
};

TEST_F(ClientDisconnectTest, StreamingClientThatLeavesAbortsItsRequest) {
  engine_.set_step_delay(std::chrono::milliseconds(20));
  RawClient client(server_->bound_port());
  client.send_post("/v1/completions", json{{"prompt", "Hi"}, {"max_tokens", 400}, {"stream", true}});
  ASSERT_TRUE(client.read_until("data: {"));
  EXPECT_EQ(engine_.num_running(), 1);
  client.close();
  EXPECT_TRUE(engine_drains());
  EXPECT_EQ(engine_.aborted_ids().size(), 1u);
}

TEST_F(ClientDisconnectTest, WaitingClientThatLeavesAbortsItsRequest) {
  engine_.set_paused(true);
  RawClient client(server_->bound_port());
  client.send_post("/v1/chat/completions",
                   json{{"messages", {{{"role", "user"}, {"content", "Hi"}}}}, {"max_tokens", 50}, {"n", 2}});
  for (int i = 0; i < 500 && engine_.num_running() == 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  ASSERT_EQ(engine_.num_running(), 1);
  client.close();
  EXPECT_TRUE(engine_drains());
  EXPECT_EQ(engine_.aborted_ids().size(), 1u);
  engine_.set_paused(false);
  EXPECT_EQ(post("/v1/completions", json{{"prompt", "Hi"}, {"max_tokens", 2}}).status, 200) << "keeps serving";
}

TEST_F(ClientDisconnectTest, OneOfManyConcurrentStreamsLeaving) {
  engine_.set_step_delay(std::chrono::milliseconds(5));
  RawClient leaver(server_->bound_port());
  leaver.send_post("/v1/completions", json{{"prompt", "Bye"}, {"max_tokens", 400}, {"stream", true}});
  ASSERT_TRUE(leaver.read_until("data: {"));
  std::vector<std::thread> stayers;
  std::atomic<int> num_complete{0};
  for (int i = 0; i < 8; ++i) {
    stayers.emplace_back([&] {
      std::vector<std::string> events =
          post_stream("/v1/completions", json{{"prompt", "Stay"}, {"max_tokens", 30}, {"stream", true}});
      if (!events.empty() && events.back() == "[DONE]") ++num_complete;
    });
  }
  leaver.close();
  for (std::thread& t : stayers) t.join();
  EXPECT_EQ(num_complete, 8);
  EXPECT_TRUE(engine_drains());
  EXPECT_EQ(engine_.aborted_ids().size(), 1u);
}

}  // namespace
}  // namespace pagedllm
