// A real OpenAIServer on 127.0.0.1 (any free port) over the FakeEngineClient, and an HTTP client for it
// (header only, for the server's tests).
#pragma once

#include <gtest/gtest.h>
#include <httplib.h>

#include <memory>
#include <thread>

#include <nlohmann/json.hpp>

#include "server/openai_server.h"
#include "server/sse.h"
#include "server/test_fake_engine.h"
#include "util/mapped_file.h"

namespace pagedllm {

inline std::string tinyllama_chat_template() {
  return read_text_file(PAGEDLLM_SOURCE_DIR "/tests/fixtures/chat_templates/tinyllama-chat.jinja");
}

struct HttpResult {
  int status = 0;
  std::string body;
  nlohmann::json json() const { return nlohmann::json::parse(body); }
};

class ServerFixture : public ::testing::Test {
 protected:
  void SetUp() override { start(default_config()); }
  void TearDown() override { shut_down(); }

  static ServerConfig default_config() {
    ServerConfig config;
    config.host = "127.0.0.1";
    config.port = 0;
    config.served_model_names = {"fake-model"};
    config.model_path = "/models/fake-model";
    config.chat_template = tinyllama_chat_template();
    config.num_http_threads = 96;
    return config;
  }

  void start(const ServerConfig& config) {
    server_ = std::make_unique<OpenAIServer>(engine_, config);
    listener_ = std::thread([this] { server_->listen(); });
  }
  void shut_down() {
    if (!server_) return;
    server_->stop();
    listener_.join();
    server_.reset();
  }
  void restart(const ServerConfig& config) {
    shut_down();
    start(config);
  }

  httplib::Client client() const {
    httplib::Client c("127.0.0.1", server_->bound_port());
    c.set_read_timeout(20, 0);
    return c;
  }

  HttpResult post(const std::string& path, const std::string& body, const httplib::Headers& headers = {}) const {
    httplib::Client c = client();
    auto res = c.Post(path.c_str(), headers, body, "application/json");
    if (!res) return {-1, ""};
    return {res->status, res->body};
  }
  HttpResult post(const std::string& path, const nlohmann::json& body, const httplib::Headers& headers = {}) const {
    return post(path, body.dump(), headers);
  }
  HttpResult get(const std::string& path, const httplib::Headers& headers = {}) const {
    httplib::Client c = client();
    auto res = c.Get(path.c_str(), headers);
    if (!res) return {-1, ""};
    return {res->status, res->body};
  }

  // The `data:` payloads of a streamed response, "[DONE]" included.
  std::vector<std::string> post_stream(const std::string& path, const nlohmann::json& body) const {
    HttpResult result = post(path, body);
    EXPECT_EQ(result.status, 200) << result.body;
    SseParser parser;
    return parser.feed(result.body);
  }

  std::vector<int32_t> encode(const std::string& text, bool add_special_tokens = true) const {
    return engine_.tokenizer().encode(text, add_special_tokens);
  }

  FakeEngineClient engine_;
  std::unique_ptr<OpenAIServer> server_;
  std::thread listener_;
};

}  // namespace pagedllm
