#include "server/streaming_response.h"

#include <httplib.h>

#include "server/api_error.h"
#include "server/client_connection.h"
#include "server/generation_session.h"
#include "server/request_fields.h"
#include "server/sse.h"

namespace pagedllm {
namespace {

struct SseStream {
  std::unique_ptr<GenerationSession> session;
  std::unique_ptr<ClientConnection> client;
  SseCallbacks callbacks;
  bool is_opened = false;

  // One provider call: false ends the response (client gone).
  bool write_next(httplib::DataSink& sink) {
    std::string bytes;
    bool is_done = false;
    try {
      if (!is_opened) {
        is_opened = true;
        for (const auto& chunk : callbacks.opening) bytes += sse_event(chunk);
      } else if (!session->is_finished()) {
        std::optional<RequestOutput> output = session->next(*client);
        if (!output) return false;
        for (const auto& chunk : callbacks.on_output(*output)) bytes += sse_event(chunk);
      } else {
        for (const auto& chunk : callbacks.on_end()) bytes += sse_event(chunk);
        bytes += kSseDone;
        is_done = true;
      }
    } catch (...) {
      session->abort_all();
      bytes += sse_event(error_json(api_error_from(std::current_exception())));
      bytes += kSseDone;
      is_done = true;
    }
    if (!bytes.empty() && !sink.write(bytes.data(), bytes.size())) return false;
    if (is_done) sink.done();
    return true;
  }
};

}  // namespace

void start_sse_response(const httplib::Request& request, httplib::Response& response,
                        std::unique_ptr<GenerationSession> session, SseCallbacks callbacks) {
  auto stream = std::make_shared<SseStream>();
  stream->session = std::move(session);
  stream->client = std::make_unique<ClientConnection>(request);
  stream->callbacks = std::move(callbacks);
  response.set_header("Cache-Control", "no-cache");
  response.set_chunked_content_provider(
      "text/event-stream", [stream](size_t, httplib::DataSink& sink) { return stream->write_next(sink); },
      [stream](bool) { stream->session->abort_all(); });
}

StreamOptions parse_stream_options(const nlohmann::json& body) {
  StreamOptions options;
  options.is_stream = get_bool(body, "stream").value_or(false);
  const nlohmann::json* object = get_object(body, "stream_options");
  if (object == nullptr) return options;
  if (!options.is_stream) {
    throw_field_error("stream_options", "Stream options can only be defined when `stream=True`.");
  }
  options.include_usage = get_bool(*object, "include_usage").value_or(false);
  options.continuous_usage_stats = get_bool(*object, "continuous_usage_stats").value_or(false);
  return options;
}

}  // namespace pagedllm
