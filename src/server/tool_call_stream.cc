#include "server/tool_call_stream.h"

#include <algorithm>
#include <cctype>
#include <optional>

namespace pagedllm {
namespace {

using nlohmann::json;

constexpr size_t kIncomplete = std::string::npos;

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

size_t skip_space(const std::string& t, size_t i) {
  while (i < t.size() && is_space(t[i])) ++i;
  return i;
}

// One past the closing quote of the string starting at t[i] == '"', or kIncomplete.
size_t string_end(const std::string& t, size_t i) {
  for (size_t j = i + 1; j < t.size(); ++j) {
    if (t[j] == '\\') {
      ++j;
    } else if (t[j] == '"') {
      return j + 1;
    }
  }
  return kIncomplete;
}

// One past the JSON value starting at t[i], or kIncomplete when the text stops inside it. It follows strings and
// nesting only: the constraint, or the parser of the whole answer, is what checks the value itself.
size_t value_end(const std::string& t, size_t i) {
  if (i >= t.size()) return kIncomplete;
  if (t[i] == '"') return string_end(t, i);
  if (t[i] == '{' || t[i] == '[') {
    int depth = 0;
    for (size_t j = i; j < t.size(); ++j) {
      if (t[j] == '"') {
        j = string_end(t, j);
        if (j == kIncomplete) return kIncomplete;
        --j;
      } else if (t[j] == '{' || t[j] == '[') {
        ++depth;
      } else if ((t[j] == '}' || t[j] == ']') && --depth == 0) {
        return j + 1;
      }
    }
    return kIncomplete;
  }
  // A number or literal ends at the first byte that cannot continue it; at the end of the text it may go on.
  size_t j = i;
  while (j < t.size() && (std::isalnum(static_cast<unsigned char>(t[j])) || t[j] == '+' || t[j] == '-' || t[j] == '.')) ++j;
  return j == t.size() ? kIncomplete : j;
}

std::string decode_string(const std::string& quoted) {
  json j = json::parse(quoted, nullptr, false);
  return j.is_string() ? j.get<std::string>() : quoted;
}

// A call object {"name": ..., <argument key>: ...} as far as the text goes.
struct CallScan {
  std::optional<std::string> name;
  std::string arguments;    // the argument value's text so far (a string value: its contents, once complete)
  size_t end = kIncomplete; // one past the closing brace
  bool is_broken = false;   // not shaped like a call object
};

CallScan scan_call_object(const std::string& t, size_t i, const std::vector<std::string>& argument_keys) {
  CallScan out;
  i = skip_space(t, i + 1);
  while (i < t.size()) {
    if (t[i] == '}') {
      out.end = i + 1;
      return out;
    }
    if (t[i] != '"') break;
    const size_t key_end = string_end(t, i);
    if (key_end == kIncomplete) return out;
    const std::string key = decode_string(t.substr(i, key_end - i));
    i = skip_space(t, key_end);
    if (i >= t.size()) return out;
    if (t[i] != ':') break;
    i = skip_space(t, i + 1);
    if (i >= t.size()) return out;
    const size_t end = value_end(t, i);
    const bool is_string = t[i] == '"';
    if (key == "name" && is_string && end != kIncomplete) out.name = decode_string(t.substr(i, end - i));
    if (std::find(argument_keys.begin(), argument_keys.end(), key) != argument_keys.end()) {
      if (!is_string) {
        out.arguments = t.substr(i, end == kIncomplete ? std::string::npos : end - i);
      } else if (end != kIncomplete) {
        out.arguments = decode_string(t.substr(i, end - i));  // arguments given as a JSON string: sent whole
      }
    }
    if (end == kIncomplete) return out;
    i = skip_space(t, end);
    if (i < t.size() && t[i] == ',') i = skip_space(t, i + 1);
    else if (i < t.size() && t[i] != '}') break;
  }
  out.is_broken = i < t.size();
  return out;
}

// The longest end of t[from:] that begins `marker` (it may turn into the marker with the next token).
size_t held_back(const std::string& t, size_t from, const std::string& marker) {
  for (size_t n = std::min(marker.size() - 1, t.size() - from); n > 0; --n) {
    if (t.compare(t.size() - n, n, marker, 0, n) == 0) return n;
  }
  return 0;
}

}  // namespace

ToolCallStream::ToolCallStream(const ToolRequest& request, const ToolServerConfig& config,
                               std::function<std::string()> new_call_id)
    : request_(request), config_(config), new_call_id_(std::move(new_call_id)) {}

ToolCallStream::Scan ToolCallStream::scan(bool is_final) const {
  Scan out;
  const std::string& t = text_;
  switch (request_.choice) {
    case ToolRequest::Choice::kNone:
      out.content = t;
      return out;
    case ToolRequest::Choice::kNamed:
      out.calls.push_back({request_.named_function, t});
      return out;
    case ToolRequest::Choice::kRequired: {
      size_t i = skip_space(t, 0);
      if (i >= t.size() || t[i] != '[') return out;
      for (i = skip_space(t, i + 1); i < t.size() && t[i] == '{';) {
        CallScan call = scan_call_object(t, i, {"parameters"});
        if (call.name) out.calls.push_back({*call.name, call.arguments});
        if (call.end == kIncomplete) break;
        i = skip_space(t, call.end);
        if (i >= t.size() || t[i] != ',') break;
        i = skip_space(t, i + 1);
      }
      return out;
    }
    case ToolRequest::Choice::kAuto:
      break;
  }
  if (config_.tool_call_parser != "hermes") {
    if (!is_final) return out;
    ParsedToolOutput parsed = parse_tool_output(config_.tool_call_parser, t);
    out.content = parsed.content.value_or("");
    for (const ParsedToolCall& call : parsed.calls) out.calls.push_back({call.name, call.arguments});
    if (!request_.parallel_tool_calls && out.calls.size() > 1) out.calls.resize(1);
    return out;
  }
  static const std::string kOpen = "<tool_call>", kClose = "</tool_call>";
  for (size_t pos = 0;;) {
    const size_t start = t.find(kOpen, pos);
    if (start == std::string::npos) {
      out.content += t.substr(pos, t.size() - pos - (is_final ? 0 : held_back(t, pos, kOpen)));
      break;
    }
    out.content += t.substr(pos, start - pos);
    const size_t i = skip_space(t, start + kOpen.size());
    CallScan call;
    if (i < t.size() && t[i] == '{') call = scan_call_object(t, i, {"arguments", "parameters"});
    else call.is_broken = i < t.size();
    if (call.name && (request_.parallel_tool_calls || out.calls.empty())) out.calls.push_back({*call.name, call.arguments});
    const size_t close = t.find(kClose, call.end == kIncomplete ? start : call.end);
    if (!call.name && (call.is_broken || call.end != kIncomplete || is_final)) {
      // Not a call: the block is content, once its end is known.
      if (close == std::string::npos && !is_final) break;
      out.content += t.substr(start, close == std::string::npos ? std::string::npos : close + kClose.size() - start);
    }
    if (close == std::string::npos || (call.end == kIncomplete && !call.is_broken)) break;
    pos = close + kClose.size();
  }
  return out;
}

std::vector<json> ToolCallStream::feed(const std::string& text, bool is_final) {
  text_ += text;
  std::vector<json> deltas;
  if (request_.choice == ToolRequest::Choice::kNone) {
    if (!text.empty()) deltas.push_back({{"content", text}});
    return deltas;
  }
  const Scan s = scan(is_final);
  // Content loses its leading and trailing whitespace, as in the whole answer: the spaces and newlines between
  // calls are never sent, and those before more content are sent with it.
  const size_t first = s.content.find_first_not_of(" \t\r\n");
  if (first != std::string::npos) {
    const std::string content = s.content.substr(first, s.content.find_last_not_of(" \t\r\n") + 1 - first);
    if (content.size() > num_content_sent_) deltas.push_back({{"content", content.substr(num_content_sent_)}});
    num_content_sent_ = std::max(num_content_sent_, content.size());
  }
  for (size_t i = 0; i < s.calls.size(); ++i) {
    if (i == sent_.size()) {
      sent_.push_back({new_call_id_(), 0});
      deltas.push_back({{"tool_calls", json::array({{{"index", i}, {"id", sent_[i].id}, {"type", "function"},
                                                      {"function", {{"name", s.calls[i].name}, {"arguments", ""}}}}})}});
    }
    const std::string& arguments = s.calls[i].arguments;
    if (arguments.size() > sent_[i].num_argument_bytes) {
      deltas.push_back({{"tool_calls", json::array({{{"index", i}, {"function", {{"arguments", arguments.substr(sent_[i].num_argument_bytes)}}}}})}});
      sent_[i].num_argument_bytes = arguments.size();
    }
  }
  return deltas;
}

}  // namespace pagedllm
