#include "server/sse.h"

#include "server/request_fields.h"

namespace pagedllm {

std::string sse_event(const nlohmann::json& payload) { return "data: " + dump_json(payload) + "\n\n"; }

std::vector<std::string> SseParser::feed(std::string_view bytes) {
  pending_.append(bytes);
  std::vector<std::string> payloads;
  size_t start = 0;
  for (size_t end; (end = pending_.find("\n\n", start)) != std::string::npos; start = end + 2) {
    std::string_view event(pending_.data() + start, end - start);
    std::string data;
    for (size_t line_start = 0; line_start <= event.size();) {
      size_t line_end = event.find('\n', line_start);
      if (line_end == std::string_view::npos) line_end = event.size();
      std::string_view line = event.substr(line_start, line_end - line_start);
      if (line.substr(0, 5) == "data:") {
        line.remove_prefix(line.size() > 5 && line[5] == ' ' ? 6 : 5);
        if (!data.empty()) data += '\n';
        data.append(line);
      }
      line_start = line_end + 1;
    }
    if (!data.empty()) payloads.push_back(std::move(data));
  }
  pending_.erase(0, start);
  return payloads;
}

}  // namespace pagedllm
