// Server-Sent Events as OpenAI streams them: one `data: {json}\n\n` event per chunk and `data: [DONE]\n\n` last.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace pagedllm {

inline constexpr std::string_view kSseDone = "data: [DONE]\n\n";

std::string sse_event(const nlohmann::json& payload);

// The client side: feeds bytes as they arrive and returns the `data:` payloads of the events completed so far
// ("[DONE]" included, verbatim). Lines other than `data:` (comments, event names) are skipped.
class SseParser {
 public:
  std::vector<std::string> feed(std::string_view bytes);

 private:
  std::string pending_;  // bytes of the event not yet terminated by a blank line
};

}  // namespace pagedllm
