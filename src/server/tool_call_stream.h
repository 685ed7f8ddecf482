// Streaming one choice's tool calls as OpenAI streams them: the first delta of call i carries
// {"index": i, "id", "type": "function", "function": {"name", "arguments": ""}}; later deltas carry only
// {"index": i, "function": {"arguments": piece}} as the model writes the arguments, so their concatenation is
// the call's arguments. Text outside the calls streams as `content`.
//
// Arguments stream byte for byte as generated for a named function (the whole output), tool_choice required
// (the "parameters" value of each element of the constrained array) and the hermes parser (the "arguments" value
// inside each <tool_call> block; text that may be the start of "<tool_call>" is held back until it is not).
// The other parsers (llama3_json, deepseek_r1) mark calls only as a whole, so their calls are sent when the
// choice finishes: the first delta, then the arguments in one piece.
// A hermes block is taken as a call from the moment its name is read; one whose JSON later breaks stays a call
// with the arguments sent so far (the whole answer would have kept it as content).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "server/tool_calls.h"

namespace pagedllm {

class ToolCallStream {
 public:
  // `new_call_id` names each call ("call_...").
  ToolCallStream(const ToolRequest& request, const ToolServerConfig& config, std::function<std::string()> new_call_id);

  // Appends the choice's new text; returns the `delta` objects it makes sendable, in order (one chunk each).
  // `is_final`: the choice has finished, everything held back is released.
  std::vector<nlohmann::json> feed(const std::string& text, bool is_final);

  bool has_calls() const { return !sent_.empty(); }

 private:
  struct SentCall {
    std::string id;
    size_t num_argument_bytes = 0;
  };
  // A call as far as the text shows it: its name once read, and the arguments text so far.
  struct PartialCall {
    std::string name;
    std::string arguments;
  };
  struct Scan {
    std::string content;  // the text outside calls that may be sent now
    std::vector<PartialCall> calls;
  };
  Scan scan(bool is_final) const;

  ToolRequest request_;
  ToolServerConfig config_;
  std::function<std::string()> new_call_id_;
  std::string text_;
  size_t num_content_sent_ = 0;
  std::vector<SentCall> sent_;
};

}  // namespace pagedllm
