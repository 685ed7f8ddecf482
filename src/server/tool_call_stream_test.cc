#include "server/tool_call_stream.h"

#include <gtest/gtest.h>

namespace pagedllm {
namespace {

using nlohmann::json;

ToolCallStream auto_stream(const std::string& parser) {
  ToolRequest request;
  request.choice = ToolRequest::Choice::kAuto;
  return ToolCallStream(request, {true, parser}, [] { return std::string("call_1"); });
}

// Feeds the pieces (the last one final) and returns every delta, in order.
std::vector<json> feed_all(ToolCallStream& stream, const std::vector<std::string>& pieces) {
  std::vector<json> deltas;
  for (size_t i = 0; i < pieces.size(); ++i) {
    for (json& d : stream.feed(pieces[i], i + 1 == pieces.size())) deltas.push_back(std::move(d));
  }
  return deltas;
}

json header(const std::string& name) {
  return {{"tool_calls", json::array({{{"index", 0}, {"id", "call_1"}, {"type", "function"},
                                       {"function", {{"name", name}, {"arguments", ""}}}}})}};
}
json piece(const std::string& arguments) {
  return {{"tool_calls", json::array({{{"index", 0}, {"function", {{"arguments", arguments}}}}})}};
}

TEST(ToolCallStream, AHermesBlockWithoutANameIsContent) {
  ToolCallStream stream = auto_stream("hermes");
  std::vector<json> deltas = feed_all(stream, {"<tool_call>{\"x\"", ": 1}</tool_call> ok", ""});
  EXPECT_EQ(deltas, (std::vector<json>{{{"content", "<tool_call>{\"x\": 1}</tool_call> ok"}}}));
  EXPECT_FALSE(stream.has_calls());
}

TEST(ToolCallStream, HermesArgumentsGivenAsAStringAreSentWholeOnceClosed) {
  ToolCallStream stream = auto_stream("hermes");
  std::vector<json> deltas = feed_all(stream, {"<tool_call>{\"name\": \"f\", \"arguments\": \"{\\\"a\\\"", ": 1}\"}</tool_call>"});
  EXPECT_EQ(deltas, (std::vector<json>{header("f"), piece("{\"a\": 1}")}));
}

TEST(ToolCallStream, Llama3JsonCallsAreSentWhenTheChoiceFinishes) {
  ToolCallStream stream = auto_stream("llama3_json");
  EXPECT_TRUE(stream.feed("{\"name\": \"f\", ", false).empty());
  std::vector<json> deltas = stream.feed("\"parameters\": {\"a\": 1}}", true);
  EXPECT_EQ(deltas, (std::vector<json>{header("f"), piece("{\"a\":1}")}));
}

TEST(ToolCallStream, ACutOffHermesBlockWithoutANameEndsAsContent) {
  ToolCallStream stream = auto_stream("hermes");
  std::vector<json> deltas = feed_all(stream, {"Hi <tool_call>{\"na"});
  EXPECT_EQ(deltas, (std::vector<json>{{{"content", "Hi <tool_call>{\"na"}}}));
}

}  // namespace
}  // namespace pagedllm
