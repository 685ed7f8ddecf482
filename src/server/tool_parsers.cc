#include "server/tool_parsers.h"

#include "util/error.h"

namespace pagedllm {
namespace {

// Arguments keep the key order the model wrote them in.
using json = nlohmann::ordered_json;

std::string trim(const std::string& s) {
  const size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t\r\n") - b + 1);
}

// {"name": ..., "arguments" | "parameters": {...}} → a call, or nullopt.
std::optional<ParsedToolCall> call_from_json(const std::string& text) {
  json j = json::parse(trim(text), nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("name") || !j["name"].is_string()) return std::nullopt;
  const json* args = j.contains("arguments") ? &j["arguments"] : j.contains("parameters") ? &j["parameters"] : nullptr;
  ParsedToolCall call{j["name"].get<std::string>(), "{}"};
  if (args != nullptr) call.arguments = args->is_string() ? args->get<std::string>() : args->dump();
  return call;
}

void set_content(ParsedToolOutput& out, const std::string& text) {
  const std::string t = trim(text);
  if (!t.empty()) out.content = t;
}

// Calls between `open` and `close` markers; the text outside them is the content.
ParsedToolOutput parse_delimited(const std::string& text, const std::string& open, const std::string& close,
                                 const std::function<std::optional<ParsedToolCall>(const std::string&)>& parse_call) {
  ParsedToolOutput out;
  std::string content;
  size_t pos = 0;
  while (true) {
    const size_t start = text.find(open, pos);
    if (start == std::string::npos) {
      content += text.substr(pos);
      break;
    }
    content += text.substr(pos, start - pos);
    const size_t body = start + open.size();
    size_t end = text.find(close, body);
    const std::string inner = text.substr(body, end == std::string::npos ? std::string::npos : end - body);
    if (auto call = parse_call(inner)) {
      out.calls.push_back(*call);
    } else {
      content += text.substr(start, end == std::string::npos ? std::string::npos : end + close.size() - start);
    }
    if (end == std::string::npos) break;
    pos = end + close.size();
  }
  set_content(out, content);
  return out;
}

ParsedToolOutput parse_llama3_json(const std::string& text) {
  std::string t = trim(text);
  if (t.rfind("<|python_tag|>", 0) == 0) t = trim(t.substr(14));
  ParsedToolOutput out;
  if (t.empty() || t[0] != '{') {
    set_content(out, text);
    return out;
  }
  // Several calls are joined with ';' between objects.
  std::vector<std::string> parts;
  int depth = 0;
  bool in_string = false;
  size_t start = 0;
  for (size_t i = 0; i < t.size(); ++i) {
    const char c = t[i];
    if (in_string) {
      if (c == '\\') ++i;
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{') {
      ++depth;
    } else if (c == '}') {
      --depth;
    } else if (c == ';' && depth == 0) {
      parts.push_back(t.substr(start, i - start));
      start = i + 1;
    }
  }
  parts.push_back(t.substr(start));
  for (const auto& p : parts) {
    auto call = call_from_json(p);
    if (!call) {
      out.calls.clear();
      set_content(out, text);
      return out;
    }
    out.calls.push_back(*call);
  }
  return out;
}

std::optional<ParsedToolCall> parse_deepseek_call(const std::string& inner) {
  static const std::string kSep = "<｜tool▁sep｜>";
  const size_t sep = inner.find(kSep);
  if (sep == std::string::npos) return std::nullopt;
  const std::string rest = inner.substr(sep + kSep.size());
  const size_t newline = rest.find('\n');
  if (newline == std::string::npos) return std::nullopt;
  ParsedToolCall call{trim(rest.substr(0, newline)), ""};
  std::string args = rest.substr(newline + 1);
  if (args.rfind("```json", 0) == 0) args = args.substr(7);
  if (const size_t fence = args.rfind("```"); fence != std::string::npos) args = args.substr(0, fence);
  json parsed = json::parse(trim(args), nullptr, false);
  if (call.name.empty() || parsed.is_discarded()) return std::nullopt;
  call.arguments = parsed.dump();
  return call;
}

}  // namespace

bool is_known_tool_call_parser(const std::string& name) {
  return name == "hermes" || name == "llama3_json" || name == "deepseek_r1";
}

ParsedToolOutput parse_tool_output(const std::string& parser, const std::string& text) {
  if (parser == "hermes") return parse_delimited(text, "<tool_call>", "</tool_call>", call_from_json);
  if (parser == "llama3_json") return parse_llama3_json(text);
  if (parser == "deepseek_r1") {
    // The calls block's own markers are content-free wrappers.
    std::string t = text;
    for (const std::string marker : {"<｜tool▁calls▁begin｜>", "<｜tool▁calls▁end｜>"}) {
      for (size_t p; (p = t.find(marker)) != std::string::npos;) t.erase(p, marker.size());
    }
    return parse_delimited(t, "<｜tool▁call▁begin｜>", "<｜tool▁call▁end｜>", parse_deepseek_call);
  }
  throw_error(ErrorKind::kInvalidArgument, "unknown tool call parser '{}' (hermes, llama3_json, deepseek_r1)", parser);
}

}  // namespace pagedllm
