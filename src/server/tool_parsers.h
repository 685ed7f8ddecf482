// Tool-call parsers: the model's text → OpenAI tool calls, one parser per template family (vLLM's
// --tool-call-parser names):
//   hermes       Hermes / Qwen2.5: <tool_call>{"name": ..., "arguments": {...}}</tool_call>, repeated
//   llama3_json  Llama 3.1: {"name": ..., "parameters": {...}} (several separated by ';'), <|python_tag|> optional
//   deepseek_r1  DeepSeek-R1 distill: <｜tool▁call▁begin｜>function<｜tool▁sep｜>NAME\n```json\nARGS\n```<｜tool▁call▁end｜>
// A call that does not parse stays in the content; nothing is dropped.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace pagedllm {

struct ParsedToolCall {
  std::string name;
  std::string arguments;  // a JSON text
};

struct ParsedToolOutput {
  std::optional<std::string> content;  // the text outside the calls; nullopt when empty
  std::vector<ParsedToolCall> calls;
};

bool is_known_tool_call_parser(const std::string& name);
// Throws Error(kInvalidArgument) for an unknown parser name.
ParsedToolOutput parse_tool_output(const std::string& parser, const std::string& text);

}  // namespace pagedllm
