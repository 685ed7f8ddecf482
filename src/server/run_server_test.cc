#include "server/run_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <future>
#include <thread>

#include "server/sse.h"
#include "server/test_fake_engine.h"

namespace pagedllm {
namespace {

int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  inet_pton(AF_INET, "127.0.0.1", &address.sin_addr);
  ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address));
  socklen_t length = sizeof(address);
  getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  ::close(fd);
  return ntohs(address.sin_port);
}

TEST(RunServerTest, SigtermFinishesTheStreamInFlightAndReturnsZero) {
  FakeEngineClient engine;
  engine.set_step_delay(std::chrono::milliseconds(10));
  ServerConfig config;
  config.port = free_port();
  config.served_model_names = {"fake"};
  std::future<int> served = std::async(std::launch::async, [&] { return run_server(engine, config); });
  httplib::Client probe("127.0.0.1", config.port);
  for (int i = 0; i < 500 && !probe.Get("/health"); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));

  std::atomic<bool> has_first_chunk{false};
  std::string streamed;
  std::thread streamer([&] {
    httplib::Client client("127.0.0.1", config.port);
    httplib::Request request;
    request.method = "POST";
    request.path = "/v1/completions";
    request.set_header("Content-Type", "application/json");
    request.body = R"({"prompt": "Hi", "max_tokens": 60, "stream": true})";
    request.content_receiver = [&](const char* data, size_t size, uint64_t, uint64_t) {
      streamed.append(data, size);
      has_first_chunk = true;
      return true;
    };
    httplib::Response response;
    httplib::Error error;
    client.send(request, response, error);
  });
  for (int i = 0; i < 500 && !has_first_chunk; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  ASSERT_TRUE(has_first_chunk);
  ::kill(::getpid(), SIGTERM);
  streamer.join();
  ASSERT_EQ(served.wait_for(std::chrono::seconds(20)), std::future_status::ready);
  EXPECT_EQ(served.get(), 0);

  SseParser parser;
  std::vector<std::string> events = parser.feed(streamed);
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.back(), "[DONE]");
  EXPECT_EQ(nlohmann::json::parse(events[events.size() - 2])["choices"][0]["finish_reason"], "length");
  EXPECT_TRUE(engine.aborted_ids().empty());
  httplib::Client late("127.0.0.1", config.port);
  EXPECT_FALSE(late.Get("/health")) << "no longer accepting";
}

}  // namespace
}  // namespace pagedllm
