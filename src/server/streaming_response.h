// Serving a generation as an SSE stream with cpp-httplib's chunked content provider.
//
// The provider runs on the connection's thread after the handler returns. Each call writes the next chunks:
// first `opening` (e.g. the chat role chunks), then what `on_output` makes of each engine output, then what
// `on_end` returns (e.g. the usage chunk) and `data: [DONE]`. A client that disconnects (seen by ClientConnection
// or by a failed write) ends the stream, and the session aborts its requests. An exception inside the callbacks
// becomes an error event (`data: {"error": ...}`) followed by [DONE], as vLLM does.
#pragma once

#include <functional>
#include <memory>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/outputs.h"

namespace httplib {
struct Request;
struct Response;
}  // namespace httplib

namespace pagedllm {

class GenerationSession;

struct SseCallbacks {
  std::vector<nlohmann::json> opening;
  std::function<std::vector<nlohmann::json>(const RequestOutput&)> on_output;
  std::function<std::vector<nlohmann::json>()> on_end;
};

void start_sse_response(const httplib::Request& request, httplib::Response& response,
                        std::unique_ptr<GenerationSession> session, SseCallbacks callbacks);

// stream / stream_options of a request. `stream_options` without `stream: true` is a 400 (vLLM's rule).
struct StreamOptions {
  bool is_stream = false;
  bool include_usage = false;
  bool continuous_usage_stats = false;  // usage in every chunk
};
StreamOptions parse_stream_options(const nlohmann::json& body);

}  // namespace pagedllm
