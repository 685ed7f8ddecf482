#include "server/tool_parsers.h"

#include <gtest/gtest.h>

#include "util/error.h"

namespace pagedllm {
namespace {

TEST(ToolParsers, HermesReadsEveryCallAndKeepsTheText) {
  ParsedToolOutput out = parse_tool_output(
      "hermes", "Let me check.\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}\n</tool_call>\n"
                "<tool_call>{\"name\": \"get_time\", \"arguments\": {}}</tool_call>");
  ASSERT_EQ(out.calls.size(), 2u);
  EXPECT_EQ(out.calls[0].name, "get_weather");
  EXPECT_EQ(out.calls[0].arguments, R"({"city":"Paris"})");
  EXPECT_EQ(out.calls[1].name, "get_time");
  EXPECT_EQ(out.calls[1].arguments, "{}");
  EXPECT_EQ(out.content, "Let me check.");
}

TEST(ToolParsers, HermesLeavesAMalformedCallInTheContent) {
  ParsedToolOutput out = parse_tool_output("hermes", "<tool_call>{\"name\": </tool_call>");
  EXPECT_TRUE(out.calls.empty());
  EXPECT_EQ(out.content, "<tool_call>{\"name\": </tool_call>");
}

TEST(ToolParsers, Llama3JsonReadsParametersAndSemicolonSeparatedCalls) {
  ParsedToolOutput out = parse_tool_output(
      "llama3_json", "<|python_tag|>{\"name\": \"a\", \"parameters\": {\"x\": \"1;2\"}}; {\"name\": \"b\", \"parameters\": {}}");
  ASSERT_EQ(out.calls.size(), 2u);
  EXPECT_EQ(out.calls[0].arguments, R"({"x":"1;2"})");
  EXPECT_EQ(out.calls[1].name, "b");
  EXPECT_FALSE(out.content.has_value());
  ParsedToolOutput text = parse_tool_output("llama3_json", "Hello there");
  EXPECT_TRUE(text.calls.empty());
  EXPECT_EQ(text.content, "Hello there");
}

TEST(ToolParsers, DeepSeekR1ReadsFencedArguments) {
  ParsedToolOutput out = parse_tool_output(
      "deepseek_r1",
      "<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>get_weather\n```json\n{\"city\": \"Oslo\"}\n```"
      "<｜tool▁call▁end｜><｜tool▁calls▁end｜>");
  ASSERT_EQ(out.calls.size(), 1u);
  EXPECT_EQ(out.calls[0].name, "get_weather");
  EXPECT_EQ(out.calls[0].arguments, R"({"city":"Oslo"})");
  EXPECT_FALSE(out.content.has_value());
}

TEST(ToolParsers, UnknownParserIsAnError) { EXPECT_THROW(parse_tool_output("mistral", ""), Error); }

}  // namespace
}  // namespace pagedllm
