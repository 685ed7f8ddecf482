#include <gtest/gtest.h>

#include "server/test_server_fixture.h"

namespace pagedllm {
namespace {

using nlohmann::json;

class ChatCompletionsRouteTest : public ServerFixture {
 protected:
  json messages() const {
    return json::array({{{"role", "system"}, {"content", "You tell stories."}},
                        {{"role", "user"}, {"content", json::array({{{"type", "text"}, {"text", "Tell one"}},
                                                                    {{"type", "text"}, {"text", "about a dog."}}})}}});
  }
  // The prompt ids the server builds: the tinyllama template rendered, tokenized without special tokens.
  std::vector<int32_t> prompt_ids() const {
    return encode("<|system|>\nYou tell stories.</s>\n<|user|>\nTell one\nabout a dog.</s>\n<|assistant|>\n", false);
  }
};

TEST_F(ChatCompletionsRouteTest, RendersTheTemplateAndAnswersAnAssistantMessage) {
  HttpResult result = post("/v1/chat/completions", json{{"messages", messages()}, {"max_tokens", 4}});
  ASSERT_EQ(result.status, 200) << result.body;
  json body = result.json();
  std::vector<int32_t> prompt = prompt_ids();
  EXPECT_EQ(body["object"], "chat.completion");
  EXPECT_EQ(body["id"].get<std::string>().rfind("chatcmpl-", 0), 0u);
  EXPECT_EQ(body["choices"][0]["message"],
            (json{{"role", "assistant"}, {"content", engine_.decode(engine_.expected_tokens(prompt, 4, 0))}}));
  EXPECT_EQ(body["choices"][0]["finish_reason"], "length");
  EXPECT_EQ(body["usage"]["prompt_tokens"], prompt.size());
  EXPECT_EQ(body["usage"]["completion_tokens"], 4);
}

TEST_F(ChatCompletionsRouteTest, TokenizeChatFormGivesTheSamePromptIds) {
  HttpResult result = post("/tokenize", json{{"messages", messages()}});
  ASSERT_EQ(result.status, 200) << result.body;
  EXPECT_EQ(result.json()["tokens"].get<std::vector<int32_t>>(), prompt_ids());
}

TEST_F(ChatCompletionsRouteTest, DefaultMaxTokensIsTheRestOfTheContext) {
  ASSERT_EQ(post("/v1/chat/completions", json{{"messages", messages()}}).status, 200);
  EXPECT_EQ(engine_.submitted().back().second.max_tokens, 512 - static_cast<int>(prompt_ids().size()));
  ASSERT_EQ(post("/v1/chat/completions", json{{"messages", messages()}, {"max_tokens", 9},
                                              {"max_completion_tokens", 3}})
                .status,
            200);
  EXPECT_EQ(engine_.submitted().back().second.max_tokens, 3);
}

TEST_F(ChatCompletionsRouteTest, StreamingStartsWithTheRoleAndIndexesEveryChoice) {
  json request = {{"messages", messages()}, {"max_tokens", 5}, {"n", 2}, {"stream", true},
                  {"stream_options", {{"include_usage", true}}}};
  std::vector<std::string> events = post_stream("/v1/chat/completions", request);
  ASSERT_GE(events.size(), 5u);
  for (int i = 0; i < 2; ++i) {
    json chunk = json::parse(events[i]);
    EXPECT_EQ(chunk["object"], "chat.completion.chunk");
    EXPECT_EQ(chunk["choices"][0]["index"], i);
    EXPECT_EQ(chunk["choices"][0]["delta"], (json{{"role", "assistant"}, {"content", ""}}));
  }
  EXPECT_EQ(events.back(), "[DONE]");
  json usage = json::parse(events[events.size() - 2]);
  EXPECT_EQ(usage["choices"], json::array());
  EXPECT_EQ(usage["usage"]["completion_tokens"], 10);
  std::string content[2];
  std::string finish[2];
  for (size_t i = 2; i + 2 < events.size(); ++i) {
    json choice = json::parse(events[i])["choices"][0];
    int index = choice["index"].get<int>();
    if (choice["delta"].contains("content")) content[index] += choice["delta"]["content"].get<std::string>();
    if (!choice["finish_reason"].is_null()) finish[index] = choice["finish_reason"];
  }
  for (int s = 0; s < 2; ++s) {
    EXPECT_EQ(content[s], engine_.decode(engine_.expected_tokens(prompt_ids(), 5, s)));
    EXPECT_EQ(finish[s], "length");
  }
}

TEST_F(ChatCompletionsRouteTest, LogprobsUseTheChatShape) {
  json body = post("/v1/chat/completions", json{{"messages", messages()}, {"max_tokens", 1}, {"logprobs", true},
                                                {"top_logprobs", 2}})
                  .json();
  int32_t id = engine_.expected_tokens(prompt_ids(), 1, 0)[0];
  std::string token = engine_.tokenizer().decode(std::vector<int32_t>{id});
  std::string alt = engine_.tokenizer().decode(std::vector<int32_t>{id + 1});
  auto bytes = [](const std::string& s) { return json(std::vector<unsigned char>(s.begin(), s.end())); };
  EXPECT_EQ(body["choices"][0]["logprobs"],
            (json{{"content", json::array({{{"token", token},
                                            {"logprob", -0.25},
                                            {"bytes", bytes(token)},
                                            {"top_logprobs", json::array({{{"token", token},
                                                                           {"logprob", -0.25},
                                                                           {"bytes", bytes(token)}},
                                                                          {{"token", alt},
                                                                           {"logprob", -2.0},
                                                                           {"bytes", bytes(alt)}}})}}})}}));
}

TEST_F(ChatCompletionsRouteTest, RefusesWhatItDoesNotSupportNamingTheField) {
  struct Case {
    json fields;
    std::string param;
    std::string message;
  };
  std::vector<Case> cases = {
      {{{"tools", json::array({{{"type", "function"}, {"function", {{"name", "f"}}}}})}}, "tool_choice",
       "\"auto\" tool choice requires --enable-auto-tool-choice and --tool-call-parser to be set"},
      {{{"tools", json::array({{{"type", "function"}, {"function", {{"name", "f"}}}}})},
        {"tool_choice", {{"type", "function"}, {"function", {{"name", "g"}}}}}}, "tool_choice",
       "tool_choice names function 'g', which is not in tools"},
      {{{"tools", json::array({{{"type", "function"}}})}, {"tool_choice", "required"}}, "tools[0]",
       "tools[0] must be {\"type\": \"function\", \"function\": {...}}"},
      {{{"response_format", {{"type", "json_schema"}}}}, "response_format.json_schema.schema",
       "response_format of type json_schema needs json_schema.schema"},
      {{{"guided_regex", "a"}, {"guided_choice", json::array({"x"})}}, "guided_choice",
       "only one structured output may be given, got guided_regex and guided_choice"},
      {{{"top_logprobs", 2}}, "top_logprobs", "when using `top_logprobs`, `logprobs` must be set to true."},
      {{{"messages", json::array({{{"role", "robot"}, {"content", "hi"}}})}}, "messages[0].role",
       "messages[0].role must be one of system, developer, user, assistant, tool"},
      {{{"messages", json::array()}}, "messages", "messages must be a non-empty list of messages"},
      {{{"messages", json::array({{{"role", "user"}, {"content", json::array({{{"type", "image_url"}}})}}})}},
       "messages[0].content[0].type", "content parts of type \"image_url\" are not supported yet"},
  };
  for (const Case& c : cases) {
    json request = {{"messages", messages()}};
    request.update(c.fields);
    HttpResult result = post("/v1/chat/completions", request);
    EXPECT_EQ(result.status, 400) << result.body;
    EXPECT_EQ(result.json()["error"]["param"], c.param);
    EXPECT_EQ(result.json()["error"]["message"], c.message);
  }
}

TEST_F(ChatCompletionsRouteTest, WithoutAnyTemplatePointsToTheFlag) {
  ServerConfig config = default_config();
  config.chat_template.clear();  // stories260K's tokenizer has none
  restart(config);
  HttpResult result = post("/v1/chat/completions", json{{"messages", messages()}});
  EXPECT_EQ(result.status, 400);
  EXPECT_EQ(result.json()["error"]["message"],
            "The model's tokenizer defines no chat template and the server was started without one: restart it "
            "with --chat-template FILE (a Jinja chat template; tests/fixtures/chat_templates/ holds examples).");
}

TEST_F(ChatCompletionsRouteTest, TemplateErrorsAreBadRequests) {
  ServerConfig config = default_config();
  config.chat_template = "{{ raise_exception('no system messages') }}";
  restart(config);
  HttpResult result = post("/v1/chat/completions", json{{"messages", messages()}});
  EXPECT_EQ(result.status, 400);
  EXPECT_EQ(result.json()["error"]["param"], "messages");
  EXPECT_NE(result.json()["error"]["message"].get<std::string>().find("no system messages"), std::string::npos);
}

}  // namespace
}  // namespace pagedllm
