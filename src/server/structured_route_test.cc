// Structured outputs and tools over HTTP with the fake engine: schemas reach the engine in the client's key
// order, and tool calls come back (whole and streamed, chunk by chunk) from text the "model" writes.
#include <gtest/gtest.h>

#include "server/test_server_fixture.h"

namespace pagedllm {
namespace {

using nlohmann::json;

// A schema whose listed order (zeta, alpha, mid) is not the alphabetical one.
const std::string kSchema =
    R"({"type":"object","properties":{"zeta":{"type":"integer"},"alpha":{"enum":["a","b"]},"mid":{"type":"boolean"}},)"
    R"("required":["zeta","alpha","mid"],"additionalProperties":false})";
const std::string kMessages = R"("messages":[{"role":"user","content":"hi"}])";
const std::string kTools =
    R"("tools":[{"type":"function","function":{"name":"f","parameters":)" + kSchema + R"(}},)"
    R"({"type":"function","function":{"name":"g"}}])";

class StructuredRouteTest : public ServerFixture {
 protected:
  std::string submitted_schema() const { return *engine_.submitted().back().second.structured_outputs->json; }

  void serve_hermes_parser() {
    ServerConfig config = default_config();
    config.enable_auto_tool_choice = true;
    config.tool_call_parser = "hermes";
    restart(config);
  }

  // The streamed choices (events between the role chunk and [DONE]) with each call id replaced by "ID".
  std::vector<json> streamed_choices(const std::string& body) const {
    HttpResult result = post("/v1/chat/completions", body);
    EXPECT_EQ(result.status, 200) << result.body;
    SseParser parser;
    std::vector<std::string> events = parser.feed(result.body);
    EXPECT_EQ(events.back(), "[DONE]");
    std::vector<json> choices;
    for (size_t i = 1; i + 1 < events.size(); ++i) {
      json choice = json::parse(events[i])["choices"][0];
      choice.erase("logprobs");
      if (choice["delta"].contains("tool_calls") && choice["delta"]["tool_calls"][0].contains("id")) {
        EXPECT_EQ(choice["delta"]["tool_calls"][0]["id"].get<std::string>().rfind("call_", 0), 0u);
        choice["delta"]["tool_calls"][0]["id"] = "ID";
      }
      choices.push_back(choice);
    }
    return choices;
  }
};

json header(int index, const std::string& name) {
  return {{"index", 0}, {"delta", {{"tool_calls", json::array({{{"index", index}, {"id", "ID"}, {"type", "function"},
                                                               {"function", {{"name", name}, {"arguments", ""}}}}})}}},
          {"finish_reason", nullptr}, {"stop_reason", nullptr}};
}
json arguments(int index, const std::string& piece) {
  return {{"index", 0}, {"delta", {{"tool_calls", json::array({{{"index", index}, {"function", {{"arguments", piece}}}}})}}},
          {"finish_reason", nullptr}, {"stop_reason", nullptr}};
}
json finish(const std::string& reason) {
  return {{"index", 0}, {"delta", json::object()}, {"finish_reason", reason}, {"stop_reason", nullptr}};
}

TEST_F(StructuredRouteTest, SchemasReachTheEngineInTheClientsKeyOrder) {
  const std::string json_schema_format = R"({"type":"json_schema","json_schema":{"name":"s","schema":)" + kSchema + "}}";
  ASSERT_EQ(post("/v1/chat/completions", "{" + kMessages + R"(,"response_format":)" + json_schema_format + "}").status, 200);
  EXPECT_EQ(submitted_schema(), kSchema);
  ASSERT_EQ(post("/v1/completions", R"({"prompt":"Once","guided_json":)" + kSchema + "}").status, 200);
  EXPECT_EQ(submitted_schema(), kSchema);
  ASSERT_EQ(post("/v1/completions", R"({"prompt":"Once","structured_outputs":{"json":)" + kSchema + "}}").status, 200);
  EXPECT_EQ(submitted_schema(), kSchema);
  const std::string named = R"("tool_choice":{"type":"function","function":{"name":"f"}})";
  ASSERT_EQ(post("/v1/chat/completions", "{" + kMessages + "," + kTools + "," + named + "}").status, 200);
  EXPECT_EQ(submitted_schema(), kSchema);
  ASSERT_EQ(post("/v1/chat/completions", "{" + kMessages + "," + kTools + R"(,"tool_choice":"required"})").status, 200);
  EXPECT_EQ(submitted_schema(),
            R"({"type":"array","items":{"anyOf":[{"type":"object","properties":{"name":{"const":"f"},"parameters":)" +
                kSchema + R"(},"required":["name","parameters"]},{"type":"object","properties":{"name":{"const":"g"},)"
                R"("parameters":{"type":"object","properties":{}}},"required":["name","parameters"]}]},"minItems":1})");
}

TEST_F(StructuredRouteTest, ANamedFunctionStreamsItsArgumentsInPieces) {
  engine_.set_scripted_text({R"({"zeta":)", R"(12,"alpha")", R"(:"a","mid":true})"});
  const std::string named = R"("tool_choice":{"type":"function","function":{"name":"f"}})";
  std::vector<json> choices = streamed_choices("{" + kMessages + "," + kTools + "," + named + R"(,"stream":true})");
  std::vector<json> expected = {header(0, "f"), arguments(0, R"({"zeta":)"), arguments(0, R"(12,"alpha")"),
                                arguments(0, R"(:"a","mid":true})"), finish("tool_calls")};
  EXPECT_EQ(choices, expected);
}

TEST_F(StructuredRouteTest, RequiredParallelCallsStreamWithIncreasingIndex) {
  engine_.set_scripted_text({R"([{"name":"f","para)", R"(meters":{"zeta":1,)", R"("alpha":"b","mid":false}},{"na)",
                             R"(me":"g","parameters":{}}])"});
  std::vector<json> choices = streamed_choices("{" + kMessages + "," + kTools + R"(,"tool_choice":"required","stream":true})");
  std::vector<json> expected = {header(0, "f"), arguments(0, R"({"zeta":1,)"), arguments(0, R"("alpha":"b","mid":false})"),
                                header(1, "g"), arguments(1, "{}"), finish("tool_calls")};
  EXPECT_EQ(choices, expected);
  // The whole answer has the same calls, and arguments equal to the streamed concatenations.
  HttpResult whole = post("/v1/chat/completions", "{" + kMessages + "," + kTools + R"(,"tool_choice":"required"})");
  ASSERT_EQ(whole.status, 200) << whole.body;
  json choice = whole.json()["choices"][0];
  EXPECT_EQ(choice["finish_reason"], "tool_calls");
  EXPECT_EQ(choice["message"]["tool_calls"][0]["function"], (json{{"name", "f"}, {"arguments", R"({"zeta":1,"alpha":"b","mid":false})"}}));
  EXPECT_EQ(choice["message"]["tool_calls"][1]["function"], (json{{"name", "g"}, {"arguments", "{}"}}));
}

TEST_F(StructuredRouteTest, AutoFindsTheHermesCallTheModelWrites) {
  serve_hermes_parser();
  engine_.set_scripted_text({"Let me ", "check.\n<tool", "_call>\n{\"name\": \"f\", \"argu", "ments\": {\"zeta\": 3, ",
                             "\"alpha\": \"a\", \"mid\": true}}\n</tool_call>", "\n"});
  HttpResult whole = post("/v1/chat/completions", "{" + kMessages + "," + kTools + "}");
  ASSERT_EQ(whole.status, 200) << whole.body;
  json choice = whole.json()["choices"][0];
  EXPECT_EQ(choice["finish_reason"], "tool_calls");
  EXPECT_EQ(choice["message"]["content"], "Let me check.");
  ASSERT_EQ(choice["message"]["tool_calls"].size(), 1u);
  EXPECT_EQ(choice["message"]["tool_calls"][0]["type"], "function");
  // Re-serialized compactly, keeping the model's key order.
  EXPECT_EQ(choice["message"]["tool_calls"][0]["function"], (json{{"name", "f"}, {"arguments", R"({"zeta":3,"alpha":"a","mid":true})"}}));

  std::vector<json> choices = streamed_choices("{" + kMessages + "," + kTools + R"(,"stream":true})");
  auto content = [](const std::string& text) {
    return json{{"index", 0}, {"delta", {{"content", text}}}, {"finish_reason", nullptr}, {"stop_reason", nullptr}};
  };
  // "<tool" is held back until the next piece shows it opens a call; the arguments stream as written.
  std::vector<json> expected = {content("Let me"), content(" check."), header(0, "f"), arguments(0, "{\"zeta\": 3, "),
                                arguments(0, "\"alpha\": \"a\", \"mid\": true}"), finish("tool_calls")};
  EXPECT_EQ(choices, expected);
}

TEST_F(StructuredRouteTest, AutoWithoutACallAnswersWithContent) {
  serve_hermes_parser();
  engine_.set_scripted_text({"No <tool", "s needed", "."});
  HttpResult whole = post("/v1/chat/completions", "{" + kMessages + "," + kTools + "}");
  ASSERT_EQ(whole.status, 200) << whole.body;
  EXPECT_EQ(whole.json()["choices"][0]["message"], (json{{"role", "assistant"}, {"content", "No <tools needed."}}));
  EXPECT_EQ(whole.json()["choices"][0]["finish_reason"], "stop");
  std::vector<json> choices = streamed_choices("{" + kMessages + "," + kTools + R"(,"stream":true})");
  std::string text;
  for (size_t i = 0; i + 1 < choices.size(); ++i) text += choices[i]["delta"]["content"].get<std::string>();
  EXPECT_EQ(text, "No <tools needed.");
  EXPECT_EQ(choices.back(), finish("stop"));
}

}  // namespace
}  // namespace pagedllm
