// Tools in /v1/chat/completions: `tools`, `tool_choice` (none | auto | required | {"type": "function",
// "function": {"name"}}) and `parallel_tool_calls`.
//   none      the template does not see the tools; the answer is plain content.
//   auto      the template sees the tools; the server's --tool-call-parser reads calls out of the text
//             (a 400 when the server has no parser or lacks --enable-auto-tool-choice).
//   required  decoding is constrained to a JSON array of {"name", "parameters"} objects, one schema per tool
//             (at most one element without parallel_tool_calls), so the calls always parse and validate.
//   named     decoding is constrained to that function's parameters schema; the output is its arguments.
// A response with calls has message.tool_calls and finish_reason "tool_calls".
#pragma once

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "sampling/structured_outputs_params.h"
#include "server/tool_parsers.h"

namespace pagedllm {

struct ToolRequest {
  enum class Choice { kNone, kAuto, kRequired, kNamed };
  // The request's function tools in the client's key order: their parameters schemas become constraints.
  nlohmann::ordered_json tools = nlohmann::ordered_json::array();
  Choice choice = Choice::kAuto;
  std::string named_function;
  bool parallel_tool_calls = true;
};

struct ToolServerConfig {
  bool enable_auto_tool_choice = false;
  std::string tool_call_parser;  // empty: none configured
};

// nullopt when the request has no tools. FieldErrors name the field (tools[1].function.name, tool_choice, ...).
// `ordered_body` is the same request in the client's key order (parse_ordered_json_body).
std::optional<ToolRequest> parse_tool_fields(const nlohmann::json& body, const nlohmann::ordered_json& ordered_body,
                                             const ToolServerConfig& config);

// The constraint for required and named choices, else nullopt.
std::optional<StructuredOutputsParams> tool_call_constraint(const ToolRequest& request);

// The calls in a finished answer (parsed by the configured parser for auto, as constrained JSON otherwise).
ParsedToolOutput extract_tool_calls(const ToolRequest& request, const ToolServerConfig& config, const std::string& text);

}  // namespace pagedllm
