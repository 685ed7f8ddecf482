#include "server/tool_calls.h"

#include "server/api_error.h"
#include "server/request_fields.h"

namespace pagedllm {
namespace {

using ordered_json = nlohmann::ordered_json;

ordered_json function_parameters(const ordered_json& tool) {
  const ordered_json& f = tool["function"];
  return f.contains("parameters") && !f["parameters"].is_null() ? f["parameters"] : ordered_json{{"type", "object"}, {"properties", ordered_json::object()}};
}

}  // namespace

std::optional<ToolRequest> parse_tool_fields(const json& body, const ordered_json& ordered_body, const ToolServerConfig& config) {
  const json* tools = find_field(body, "tools");
  const json* choice = find_field(body, "tool_choice");
  if (tools == nullptr || (tools->is_array() && tools->empty())) {
    if (choice != nullptr && *choice != "none" && *choice != "auto") throw_field_error("tool_choice", "tool_choice needs tools");
    return std::nullopt;
  }
  if (!tools->is_array()) throw_field_error("tools", "tools must be a list of tools");
  ToolRequest request;
  for (size_t i = 0; i < tools->size(); ++i) {
    const json& t = (*tools)[i];
    const std::string where = fmt::format("tools[{}]", i);
    if (!t.is_object() || t.value("type", "") != "function" || !t.contains("function") || !t["function"].is_object()) {
      throw_field_error(where, "{} must be {{\"type\": \"function\", \"function\": {{...}}}}", where);
    }
    as_string(t["function"].contains("name") ? t["function"]["name"] : json(), where + ".function.name");
    if (t["function"].contains("parameters") && !t["function"]["parameters"].is_null() && !t["function"]["parameters"].is_object()) {
      throw_field_error(where + ".function.parameters", "{}.function.parameters must be a JSON Schema object", where);
    }
    request.tools.push_back(ordered_body.at("tools")[i]);
  }
  request.parallel_tool_calls = get_bool(body, "parallel_tool_calls").value_or(true);
  if (choice == nullptr || *choice == "auto") {
    request.choice = ToolRequest::Choice::kAuto;
  } else if (*choice == "none") {
    request.choice = ToolRequest::Choice::kNone;
  } else if (*choice == "required") {
    request.choice = ToolRequest::Choice::kRequired;
  } else if (choice->is_object() && choice->value("type", "") == "function" && choice->contains("function") &&
             (*choice)["function"].is_object() && (*choice)["function"].contains("name") && (*choice)["function"]["name"].is_string()) {
    request.choice = ToolRequest::Choice::kNamed;
    request.named_function = (*choice)["function"]["name"].get<std::string>();
    bool found = false;
    for (const auto& t : request.tools) found |= t["function"]["name"] == request.named_function;
    if (!found) throw_field_error("tool_choice", "tool_choice names function '{}', which is not in tools", request.named_function);
  } else {
    throw_field_error("tool_choice", "tool_choice must be none, auto, required or {{\"type\": \"function\", \"function\": {{\"name\": ...}}}}");
  }
  if (request.choice == ToolRequest::Choice::kAuto && (!config.enable_auto_tool_choice || config.tool_call_parser.empty())) {
    throw_field_error("tool_choice", "\"auto\" tool choice requires --enable-auto-tool-choice and --tool-call-parser to be set");
  }
  return request;
}

std::optional<StructuredOutputsParams> tool_call_constraint(const ToolRequest& request) {
  StructuredOutputsParams s;
  if (request.choice == ToolRequest::Choice::kNamed) {
    for (const auto& t : request.tools) {
      if (t["function"]["name"] == request.named_function) s.json = function_parameters(t).dump();
    }
    return s;
  }
  if (request.choice != ToolRequest::Choice::kRequired) return std::nullopt;
  // "name" is listed first, so it is generated first (and a stream can name the call before its arguments).
  ordered_json calls = ordered_json::array();
  for (const auto& t : request.tools) {
    calls.push_back({{"type", "object"},
                     {"properties", {{"name", {{"const", t["function"]["name"]}}}, {"parameters", function_parameters(t)}}},
                     {"required", {"name", "parameters"}}});
  }
  ordered_json schema = {{"type", "array"}, {"items", {{"anyOf", calls}}}, {"minItems", 1}};
  if (!request.parallel_tool_calls) schema["maxItems"] = 1;
  s.json = schema.dump();
  return s;
}

ParsedToolOutput extract_tool_calls(const ToolRequest& request, const ToolServerConfig& config, const std::string& text) {
  ParsedToolOutput out;
  switch (request.choice) {
    case ToolRequest::Choice::kNone:
      out.content = text;
      return out;
    case ToolRequest::Choice::kAuto:
      out = parse_tool_output(config.tool_call_parser, text);
      if (!request.parallel_tool_calls && out.calls.size() > 1) out.calls.resize(1);
      return out;
    case ToolRequest::Choice::kNamed:
      out.calls.push_back({request.named_function, text});
      return out;
    case ToolRequest::Choice::kRequired: {
      ordered_json calls = ordered_json::parse(text, nullptr, false);
      if (calls.is_discarded() || !calls.is_array()) {
        out.content = text;  // cut off by max_tokens before the structure closed
        return out;
      }
      for (const auto& c : calls) out.calls.push_back({c["name"].get<std::string>(), c["parameters"].dump()});
      return out;
    }
  }
  return out;
}

}  // namespace pagedllm
