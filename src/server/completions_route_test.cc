#include <gtest/gtest.h>

#include "server/test_server_fixture.h"

namespace pagedllm {
namespace {

using nlohmann::json;

class CompletionsRouteTest : public ServerFixture {};

TEST_F(CompletionsRouteTest, ReturnsTheEngineTokensAsText) {
  HttpResult result = post("/v1/completions", json{{"model", "fake-model"}, {"prompt", "Once upon a time"},
                                                    {"max_tokens", 5}, {"return_token_ids", true}});
  ASSERT_EQ(result.status, 200) << result.body;
  json body = result.json();
  std::vector<int32_t> prompt = encode("Once upon a time");
  std::vector<int32_t> expected = engine_.expected_tokens(prompt, 5, 0);
  EXPECT_EQ(body["object"], "text_completion");
  EXPECT_EQ(body["model"], "fake-model");
  EXPECT_EQ(body["id"].get<std::string>().rfind("cmpl-", 0), 0u);
  ASSERT_EQ(body["choices"].size(), 1u);
  EXPECT_EQ(body["choices"][0]["index"], 0);
  EXPECT_EQ(body["choices"][0]["text"], engine_.decode(expected));
  EXPECT_EQ(body["choices"][0]["token_ids"].get<std::vector<int32_t>>(), expected);
  EXPECT_EQ(body["choices"][0]["finish_reason"], "length");
  EXPECT_TRUE(body["choices"][0]["logprobs"].is_null());
  EXPECT_EQ(body["choices"][0]["prompt_token_ids"].get<std::vector<int32_t>>(), prompt);
  EXPECT_EQ(body["usage"], (json{{"prompt_tokens", prompt.size()}, {"completion_tokens", 5},
                                 {"total_tokens", prompt.size() + 5}}));
}

TEST_F(CompletionsRouteTest, DefaultMaxTokensIs16AndSamplingFieldsReachTheEngine) {
  HttpResult result = post("/v1/completions",
                           json{{"prompt", "Hi"}, {"temperature", 0.5}, {"top_p", 0.9}, {"top_k", 40},
                                {"min_p", 0.1}, {"seed", 7}, {"stop", "x"}, {"presence_penalty", 0.5},
                                {"frequency_penalty", -0.5}, {"repetition_penalty", 1.2}, {"ignore_eos", true},
                                {"min_tokens", 2}, {"logit_bias", {{"5", 200}}}, {"stop_token_ids", {9}}});
  ASSERT_EQ(result.status, 200) << result.body;
  auto submitted = engine_.submitted();
  ASSERT_EQ(submitted.size(), 1u);
  const SamplingParams& p = submitted[0].second;
  EXPECT_EQ(p.max_tokens, 16);
  EXPECT_FLOAT_EQ(p.temperature, 0.5f);
  EXPECT_FLOAT_EQ(p.top_p, 0.9f);
  EXPECT_EQ(p.top_k, 40);
  EXPECT_FLOAT_EQ(p.min_p, 0.1f);
  EXPECT_EQ(p.seed, std::optional<uint64_t>(7));
  EXPECT_EQ(p.stop, std::vector<std::string>{"x"});
  EXPECT_FLOAT_EQ(p.presence_penalty, 0.5f);
  EXPECT_FLOAT_EQ(p.frequency_penalty, -0.5f);
  EXPECT_FLOAT_EQ(p.repetition_penalty, 1.2f);
  EXPECT_TRUE(p.ignore_eos);
  EXPECT_EQ(p.min_tokens, 2);
  EXPECT_EQ(p.logit_bias, (std::map<int32_t, float>{{5, 100.0f}}));  // clamped to [-100, 100] as vLLM
  EXPECT_EQ(p.stop_token_ids, std::vector<int32_t>{9});
}

TEST_F(CompletionsRouteTest, SeveralPromptsAndNGivePromptMajorChoices) {
  HttpResult result = post("/v1/completions", json{{"prompt", json::array({json::array({1, 300, 301}),
                                                                            json::array({1, 302})})},
                                                    {"n", 2}, {"max_tokens", 3}});
  ASSERT_EQ(result.status, 200) << result.body;
  json body = result.json();
  ASSERT_EQ(body["choices"].size(), 4u);
  for (int i = 0; i < 4; ++i) {
    const json& choice = body["choices"][i];
    EXPECT_EQ(choice["index"], i);
    std::vector<int32_t> prompt = i < 2 ? std::vector<int32_t>{1, 300, 301} : std::vector<int32_t>{1, 302};
    EXPECT_EQ(choice["text"], engine_.decode(engine_.expected_tokens(prompt, 3, i % 2)));
  }
  EXPECT_EQ(body["usage"]["prompt_tokens"], 5);
  EXPECT_EQ(body["usage"]["completion_tokens"], 12);
}

TEST_F(CompletionsRouteTest, EchoPrependsThePrompt) {
  json body = post("/v1/completions", json{{"prompt", "The dog"}, {"max_tokens", 2}, {"echo", true}}).json();
  std::vector<int32_t> prompt = encode("The dog");
  EXPECT_EQ(body["choices"][0]["text"], "The dog" + engine_.decode(engine_.expected_tokens(prompt, 2, 0)));
}

TEST_F(CompletionsRouteTest, LogprobsUseTheLegacyShape) {
  json body = post("/v1/completions", json{{"prompt", "The dog"}, {"max_tokens", 2}, {"logprobs", 2}}).json();
  std::vector<int32_t> ids = engine_.expected_tokens(encode("The dog"), 2, 0);
  const json& logprobs = body["choices"][0]["logprobs"];
  std::string t0 = engine_.tokenizer().decode(std::vector<int32_t>{ids[0]});
  std::string t1 = engine_.tokenizer().decode(std::vector<int32_t>{ids[1]});
  std::string alt0 = engine_.tokenizer().decode(std::vector<int32_t>{ids[0] + 1});
  EXPECT_EQ(logprobs["tokens"], json::array({t0, t1}));
  EXPECT_EQ(logprobs["token_logprobs"], json::array({-0.25, -0.25}));
  EXPECT_EQ(logprobs["text_offset"], json::array({0, t0.size()}));  // ASCII pieces: bytes = characters
  EXPECT_EQ(logprobs["top_logprobs"][0], (json{{t0, -0.25}, {alt0, -2.0}}));
}

TEST_F(CompletionsRouteTest, StreamingSendsSseChunksUsageAndDone) {
  json request = {{"prompt", "Once upon a time"}, {"max_tokens", 6}, {"n", 2}, {"stream", true},
                  {"stream_options", {{"include_usage", true}}}};
  std::vector<std::string> events = post_stream("/v1/completions", request);
  ASSERT_GE(events.size(), 3u);
  EXPECT_EQ(events.back(), "[DONE]");
  json usage_chunk = json::parse(events[events.size() - 2]);
  EXPECT_EQ(usage_chunk["choices"], json::array());
  std::vector<int32_t> prompt = encode("Once upon a time");
  EXPECT_EQ(usage_chunk["usage"]["completion_tokens"], 12);
  EXPECT_EQ(usage_chunk["usage"]["prompt_tokens"], prompt.size());
  std::string text[2];
  int num_finished = 0;
  for (size_t i = 0; i + 2 < events.size(); ++i) {
    json chunk = json::parse(events[i]);
    EXPECT_EQ(chunk["object"], "text_completion");
    ASSERT_EQ(chunk["choices"].size(), 1u) << "one choice per chunk";
    const json& choice = chunk["choices"][0];
    text[choice["index"].get<int>()] += choice["text"].get<std::string>();
    if (!choice["finish_reason"].is_null()) {
      EXPECT_EQ(choice["finish_reason"], "length");
      ++num_finished;
    }
  }
  EXPECT_EQ(num_finished, 2);
  for (int s = 0; s < 2; ++s) EXPECT_EQ(text[s], engine_.decode(engine_.expected_tokens(prompt, 6, s)));
}

TEST_F(CompletionsRouteTest, StreamedTextEqualsTheWholeResponse) {
  json request = {{"prompt", "Lily and Tom"}, {"max_tokens", 20}, {"logprobs", 1}};
  json whole = post("/v1/completions", request).json();
  request["stream"] = true;
  std::string streamed;
  json streamed_offsets = json::array();
  for (const std::string& event : post_stream("/v1/completions", request)) {
    if (event == "[DONE]") break;
    json choice = json::parse(event)["choices"][0];
    streamed += choice["text"].get<std::string>();
    for (const json& offset : choice["logprobs"]["text_offset"]) streamed_offsets.push_back(offset);
  }
  EXPECT_EQ(streamed, whole["choices"][0]["text"]);
  EXPECT_EQ(streamed_offsets, whole["choices"][0]["logprobs"]["text_offset"]);
}

TEST_F(CompletionsRouteTest, PromptPlusMaxTokensBeyondTheContextGivesVllmsMessage) {
  HttpResult result = post("/v1/completions", json{{"prompt", "Hi"}, {"max_tokens", 600}});
  EXPECT_EQ(result.status, 400);
  size_t n = encode("Hi").size();
  EXPECT_EQ(result.json(),
            (json{{"error",
                   {{"message", fmt::format("This model's maximum context length is 512 tokens. However, you "
                                            "requested 600 output tokens and your prompt contains {} input tokens, "
                                            "for a total of {} tokens. Please reduce the length of the input "
                                            "prompt or the number of requested output tokens.",
                                            n, n + 600)},
                    {"type", "BadRequestError"},
                    {"param", "input_tokens"},
                    {"code", 400}}}}));
}

struct BadField {
  json fields;
  std::string param;
  std::string message;
};

class CompletionsBadFieldTest : public ServerFixture, public ::testing::WithParamInterface<BadField> {};

TEST_P(CompletionsBadFieldTest, AnswersBadRequestNamingTheField) {
  json request = {{"prompt", "Hi"}};
  request.update(GetParam().fields);
  HttpResult result = post("/v1/completions", request);
  EXPECT_EQ(result.status, 400) << result.body;
  json error = result.json()["error"];
  EXPECT_EQ(error["type"], "BadRequestError");
  EXPECT_EQ(error["code"], 400);
  EXPECT_EQ(error["param"], GetParam().param);
  EXPECT_EQ(error["message"], GetParam().message);
  EXPECT_EQ(post("/v1/completions", json{{"prompt", "Hi"}, {"max_tokens", 1}}).status, 200) << "keeps serving";
}

INSTANTIATE_TEST_SUITE_P(
    Fields, CompletionsBadFieldTest,
    ::testing::Values(
        BadField{{{"temperature", -1}}, "temperature", "temperature must be in [0, 2], got -1"},
        BadField{{{"top_p", 0}}, "top_p", "top_p must be in (0, 1], got 0"},
        BadField{{{"top_p", 1.5}}, "top_p", "top_p must be in (0, 1], got 1.5"},
        BadField{{{"n", 0}}, "n", "n must be at least 1, got 0"},
        BadField{{{"max_tokens", -5}}, "max_tokens", "max_tokens must be at least 1, got -5"},
        BadField{{{"max_tokens", "many"}}, "max_tokens", "max_tokens must be an integer, got \"many\""},
        BadField{{{"logprobs", 21}}, "logprobs", "logprobs must be at most 20, got 21"},
        BadField{{{"stop", json::array({""})}}, "stop", "stop must not contain empty strings"},
        BadField{{{"stream", "yes"}}, "stream", "stream must be a boolean, got \"yes\""},
        BadField{{{"stream_options", {{"include_usage", true}}}}, "stream_options",
                 "Stream options can only be defined when `stream=True`."},
        BadField{{{"presence_penalty", 3}}, "presence_penalty", "presence_penalty must be in [-2, 2], got 3"},
        BadField{{{"min_tokens", 20}}, "min_tokens", "min_tokens must be at most max_tokens (16), got 20"},
        BadField{{{"prompt", json::array({1, 9999})}}, "prompt", "Token id 9999 is out of vocabulary"},
        BadField{{{"prompt", json::array()}}, "prompt",
                 "prompt must be a string, a list of strings, a list of token ids or a list of lists of token ids"},
        BadField{{{"response_format", {{"type", "xml"}}}}, "response_format.type",
                 "response_format.type must be text, json_object or json_schema, got xml"},
        BadField{{{"guided_choice", json::array()}}, "guided_choice", "guided_choice must be a non-empty list of strings"},
        BadField{{{"logit_bias", {{"abc", 1}}}}, "logit_bias",
                 "logit_bias keys must be token ids in [0, 512), got \"abc\""}));

TEST_F(CompletionsRouteTest, MalformedJsonIsBadRequest) {
  HttpResult result = post("/v1/completions", std::string("{\"prompt\": "));
  EXPECT_EQ(result.status, 400);
  EXPECT_EQ(result.json()["error"]["message"], "The request body is not valid JSON");
}

TEST_F(CompletionsRouteTest, UnknownModelIsNotFoundAndLoraNamesAreAccepted) {
  HttpResult result = post("/v1/completions", json{{"prompt", "Hi"}, {"model", "gpt-4"}});
  EXPECT_EQ(result.status, 404);
  EXPECT_EQ(result.json(), (json{{"error",
                                  {{"message", "The model `gpt-4` does not exist."},
                                   {"type", "NotFoundError"},
                                   {"param", "model"},
                                   {"code", 404}}}}));
  EXPECT_EQ(post("/v1/completions", json{{"prompt", "Hi"}, {"model", "my-lora"}, {"max_tokens", 1}}).status, 200);
}

TEST_F(CompletionsRouteTest, FullWaitingQueueIsServiceUnavailable) {
  ServerConfig config = default_config();
  config.max_queued_requests = 0;
  restart(config);
  HttpResult result = post("/v1/completions", json{{"prompt", "Hi"}});
  EXPECT_EQ(result.status, 503);
  EXPECT_EQ(result.json()["error"]["type"], "ServiceUnavailableError");
  config.max_queued_requests = 1;
  restart(config);
  EXPECT_EQ(post("/v1/completions", json{{"prompt", "Hi"}, {"max_tokens", 1}}).status, 200);
}

TEST_F(CompletionsRouteTest, StopTokenEndsTheChoiceWithStopReason) {
  std::vector<int32_t> ids = engine_.expected_tokens(encode("Hi"), 3, 0);
  json body = post("/v1/completions", json{{"prompt", "Hi"}, {"stop_token_ids", {ids[2]}}}).json();
  EXPECT_EQ(body["choices"][0]["finish_reason"], "stop");
  EXPECT_EQ(body["choices"][0]["stop_reason"], ids[2]);
  EXPECT_EQ(body["usage"]["completion_tokens"], 3);
}

}  // namespace
}  // namespace pagedllm
