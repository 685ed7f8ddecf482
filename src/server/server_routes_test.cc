#include <gtest/gtest.h>

#include "server/test_server_fixture.h"

namespace pagedllm {
namespace {

using nlohmann::json;

class ServerRoutesTest : public ServerFixture {};

TEST_F(ServerRoutesTest, ModelsListsTheServedNameAndLoras) {
  HttpResult result = get("/v1/models");
  ASSERT_EQ(result.status, 200);
  json body = result.json();
  EXPECT_EQ(body["object"], "list");
  ASSERT_EQ(body["data"].size(), 2u);
  EXPECT_EQ(body["data"][0]["id"], "fake-model");
  EXPECT_EQ(body["data"][0]["object"], "model");
  EXPECT_EQ(body["data"][0]["root"], "/models/fake-model");
  EXPECT_EQ(body["data"][0]["max_model_len"], 512);
  EXPECT_EQ(body["data"][1]["id"], "my-lora");
  EXPECT_EQ(body["data"][1]["parent"], "fake-model");
}

TEST_F(ServerRoutesTest, DefaultServedNameIsTheModelFolder) {
  ServerConfig config = default_config();
  config.served_model_names.clear();
  config.model_path = "/work/shared/models/stories260K/";
  restart(config);
  EXPECT_EQ(get("/v1/models").json()["data"][0]["id"], "stories260K");
}

TEST_F(ServerRoutesTest, HealthFollowsTheEngine) {
  HttpResult healthy = get("/health");
  EXPECT_EQ(healthy.status, 200);
  EXPECT_EQ(healthy.body, "");
  engine_.set_alive(false);
  EXPECT_EQ(get("/health").status, 503);
  engine_.set_alive(true);
}

TEST_F(ServerRoutesTest, VersionIsJson) { EXPECT_EQ(get("/version").json(), (json{{"version", "0.1.0"}})); }

TEST_F(ServerRoutesTest, TokenizeAndDetokenizeRoundTrip) {
  std::vector<int32_t> ids = encode("Once upon a time");
  HttpResult tokens = post("/tokenize", json{{"prompt", "Once upon a time"}, {"return_token_strs", true}});
  ASSERT_EQ(tokens.status, 200) << tokens.body;
  json body = tokens.json();
  EXPECT_EQ(body["tokens"].get<std::vector<int32_t>>(), ids);
  EXPECT_EQ(body["count"], ids.size());
  EXPECT_EQ(body["max_model_len"], 512);
  EXPECT_EQ(body["token_strs"][0], "<s>");
  EXPECT_EQ(post("/tokenize", json{{"prompt", "Once upon a time"}, {"add_special_tokens", false}})
                .json()["tokens"]
                .get<std::vector<int32_t>>(),
            std::vector<int32_t>(ids.begin() + 1, ids.end()));
  EXPECT_EQ(post("/detokenize", json{{"tokens", ids}}).json(), (json{{"prompt", "<s> Once upon a time"}}));
  HttpResult bad = post("/detokenize", json{{"tokens", {1, 512}}});
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(bad.json()["error"]["param"], "tokens[1]");
}

TEST_F(ServerRoutesTest, UnknownRouteIsNotFoundInOpenAIShape) {
  HttpResult result = get("/v1/nothing");
  EXPECT_EQ(result.status, 404);
  EXPECT_EQ(result.json(), (json{{"error",
                                  {{"message", "Not Found: GET /v1/nothing"},
                                   {"type", "NotFoundError"},
                                   {"param", nullptr},
                                   {"code", 404}}}}));
}

TEST_F(ServerRoutesTest, BodyOverTheLimitIsTooLarge) {
  ServerConfig config = default_config();
  config.max_request_body = 1000;
  restart(config);
  HttpResult result = post("/v1/completions", json{{"prompt", std::string(2000, 'a')}});
  EXPECT_EQ(result.status, 413);
  EXPECT_EQ(result.json()["error"]["code"], 413);
  EXPECT_EQ(post("/v1/completions", json{{"prompt", "Hi"}, {"max_tokens", 1}}).status, 200);
}

TEST_F(ServerRoutesTest, ApiKeyGuardsV1Routes) {
  ServerConfig config = default_config();
  config.api_key = "sekret";
  restart(config);
  json request = {{"prompt", "Hi"}, {"max_tokens", 1}};
  HttpResult missing = post("/v1/completions", request);
  EXPECT_EQ(missing.status, 401);
  EXPECT_EQ(missing.json()["error"]["type"], "AuthenticationError");
  EXPECT_EQ(post("/v1/completions", request, {{"Authorization", "Bearer wrong"}}).status, 401);
  EXPECT_EQ(get("/v1/models", {{"Authorization", "Bearer wrong"}}).status, 401);
  EXPECT_EQ(post("/v1/completions", request, {{"Authorization", "Bearer sekret"}}).status, 200);
  EXPECT_EQ(get("/health").status, 200) << "only /v1 needs the key, as in vLLM";
}

TEST_F(ServerRoutesTest, MetricsUseVllmNames) {
  ASSERT_EQ(post("/v1/completions", json{{"prompt", "Hi"}, {"max_tokens", 3}}).status, 200);
  HttpResult result = get("/metrics");
  ASSERT_EQ(result.status, 200);
  const std::string& text = result.body;
  size_t n = encode("Hi").size();
  for (const std::string& line :
       {std::string("vllm:num_requests_running{model_name=\"fake-model\"} 0"),
        std::string("vllm:kv_cache_usage_perc{model_name=\"fake-model\"} 0"),
        fmt::format("vllm:prompt_tokens_total{{model_name=\"fake-model\"}} {}", n),
        std::string("vllm:generation_tokens_total{model_name=\"fake-model\"} 3"),
        std::string("vllm:request_success_total{finished_reason=\"length\",model_name=\"fake-model\"} 1"),
        std::string("vllm:time_to_first_token_seconds_count{model_name=\"fake-model\"} 3")}) {
    EXPECT_NE(text.find(line + "\n"), std::string::npos) << line << "\n---\n" << text;
  }
}

}  // namespace
}  // namespace pagedllm
