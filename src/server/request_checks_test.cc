// Request fields and bodies that were accepted with 200 although wrong (issue 21), each now a 400 naming the field,
// or clamped as vLLM clamps.
#include <gtest/gtest.h>

#include "server/test_server_fixture.h"

namespace pagedllm {
namespace {

using nlohmann::json;

class RequestChecksTest : public ServerFixture {
 protected:
  json error_of(const std::string& path, const json& body, int expected_status = 400) {
    HttpResult result = post(path, body);
    EXPECT_EQ(result.status, expected_status) << result.body;
    return result.json()["error"];
  }
};

TEST_F(RequestChecksTest, BestOfMustBeAnIntegerAtLeastN) {
  json wrong_type = error_of("/v1/completions", {{"prompt", "Hi"}, {"best_of", "two"}});
  EXPECT_EQ(wrong_type["param"], "best_of");
  EXPECT_EQ(wrong_type["message"], "best_of must be an integer, got \"two\"");
  json below_n = error_of("/v1/completions", {{"prompt", "Hi"}, {"n", 3}, {"best_of", 2}});
  EXPECT_EQ(below_n["message"], "best_of must be greater than or equal to n, got n=3 and best_of=2");
  EXPECT_EQ(error_of("/v1/completions", {{"prompt", "Hi"}, {"best_of", 0}})["message"],
            "best_of must be at least 1, got 0");
  EXPECT_EQ(error_of("/v1/completions", {{"prompt", "Hi"}, {"best_of", 3}})["message"],
            "best_of > n is not supported yet");
  EXPECT_EQ(post("/v1/completions", json{{"prompt", "Hi"}, {"n", 2}, {"best_of", 2}, {"max_tokens", 1}}).status, 200);
}

TEST_F(RequestChecksTest, HugeLogitBiasIsClampedToOneHundred) {
  ASSERT_EQ(post("/v1/completions", json{{"prompt", "Hi"}, {"max_tokens", 1},
                                         {"logit_bias", {{"300", 1e308}, {"301", -1e308}, {"302", 5.5}}}})
                .status,
            200);
  std::map<int32_t, float> bias = engine_.submitted().back().second.logit_bias;
  EXPECT_EQ(bias, (std::map<int32_t, float>{{300, 100.0f}, {301, -100.0f}, {302, 5.5f}}));
}

TEST_F(RequestChecksTest, ChatEchoMustBeABooleanAndIsNotSupported) {
  json messages = json::array({{{"role", "user"}, {"content", "Hi"}}});
  json wrong_type = error_of("/v1/chat/completions", {{"messages", messages}, {"echo", "yes"}});
  EXPECT_EQ(wrong_type["param"], "echo");
  EXPECT_EQ(wrong_type["message"], "echo must be a boolean, got \"yes\"");
  EXPECT_EQ(error_of("/v1/chat/completions", {{"messages", messages}, {"echo", true}})["message"],
            "echo is not supported yet for chat completions");
  EXPECT_EQ(post("/v1/chat/completions", json{{"messages", messages}, {"echo", false}, {"max_tokens", 1}}).status,
            200);
}

TEST_F(RequestChecksTest, MessageRoleOfTheWrongTypeNamesTheMessage) {
  json error = error_of("/v1/chat/completions", {{"messages", json::array({{{"role", 5}, {"content", "Hi"}}})}});
  EXPECT_EQ(error["param"], "messages[0].role");
  EXPECT_EQ(error["message"], "messages[0].role must be a string, got 5");
}

TEST_F(RequestChecksTest, NulByteAfterTheBodyIsRefused) {
  HttpResult result = post("/v1/completions", std::string("{\"prompt\": \"Hi\"}\0junk", 21));
  EXPECT_EQ(result.status, 400);
  EXPECT_EQ(result.json()["error"]["message"], "The request body is not acceptable JSON: a NUL byte at byte 16");
}

TEST_F(RequestChecksTest, DeepNestingIsRefusedBeforeParsing) {
  HttpResult result = post("/tokenize", std::string(1 << 20, '['));
  EXPECT_EQ(result.status, 400);
  EXPECT_EQ(result.json()["error"]["message"],
            "The request body is not acceptable JSON: nesting deeper than 64 levels at byte 64");
  json nested = json{{"prompt", "Hi"}, {"user", "x"}};
  EXPECT_EQ(post("/tokenize", nested).status, 200);
}

}  // namespace
}  // namespace pagedllm
