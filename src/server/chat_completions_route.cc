// POST /v1/chat/completions: messages rendered with the chat template, then generated like a completion.
// Streams start with one `delta: {"role": "assistant", "content": ""}` chunk per choice, as OpenAI and vLLM do.
// With tools, calls stream as OpenAI streams them (see tool_call_stream.h), and the finish reason comes in a
// last chunk of its own: "tool_calls" when the choice made calls and stopped.
#include <httplib.h>

#include <map>
#include <set>

#include "server/api_error.h"
#include "server/chat_prompt.h"
#include "server/client_connection.h"
#include "server/request_fields.h"
#include "server/logprobs_format.h"
#include "server/response_common.h"
#include "server/routes.h"
#include "server/sampling_fields.h"
#include "server/server_context.h"
#include "server/streaming_response.h"
#include "server/tool_call_stream.h"
#include "server/tool_calls.h"
#include "tokenizer/tokenizer.h"

namespace pagedllm {
namespace {

struct ChatRequest {
  std::string id;
  std::string lora_name;
  ChatPrompt prompt;
  SamplingParams params;
  StreamOptions stream;
  bool return_token_ids = false;
  int64_t created = unix_time_now();
  std::optional<ToolRequest> tools;
};

ToolServerConfig tool_config(const ServerContext& context) {
  return {context.config.enable_auto_tool_choice, context.config.tool_call_parser};
}

// message (non-streamed) or delta (streamed) fields of a finished answer: content and/or tool_calls.
json answer_fields(const ChatRequest& request, const ServerContext& context, const std::string& text, bool& has_calls) {
  has_calls = false;
  if (!request.tools) return {{"content", text}};
  ParsedToolOutput parsed = extract_tool_calls(*request.tools, tool_config(context), text);
  json fields = {{"content", parsed.content ? json(*parsed.content) : json(nullptr)}};
  if (parsed.calls.empty()) return fields;
  has_calls = true;
  json calls = json::array();
  for (size_t i = 0; i < parsed.calls.size(); ++i) {
    calls.push_back({{"index", i}, {"id", context.new_request_id("call_")}, {"type", "function"},
                     {"function", {{"name", parsed.calls[i].name}, {"arguments", parsed.calls[i].arguments}}}});
  }
  fields["tool_calls"] = calls;
  return fields;
}

// max_completion_tokens, else the deprecated max_tokens, else the rest of the context (vLLM's default).
int resolve_max_tokens(const json& body, int num_prompt_tokens, int max_model_len) {
  std::optional<int64_t> max_tokens = get_int(body, "max_completion_tokens", 1, INT32_MAX);
  if (!max_tokens) max_tokens = get_int(body, "max_tokens", 1, INT32_MAX);
  return static_cast<int>(max_tokens.value_or(std::max(1, max_model_len - num_prompt_tokens)));
}

ChatRequest parse_request(const json& body, const nlohmann::ordered_json& ordered_body, const ServerContext& context) {
  ChatRequest request;
  request.id = context.new_request_id("chatcmpl-");
  request.lora_name = context.resolve_model(body);
  reject_unsupported_fields(body);
  request.stream = parse_stream_options(body);
  request.params = parse_sampling_fields(body, ordered_body, context.engine.tokenizer().vocab_size());
  request.tools = parse_tool_fields(body, ordered_body, tool_config(context));
  if (request.tools) {
    if (auto constraint = tool_call_constraint(*request.tools)) {
      if (request.params.structured_outputs) throw_field_error("tool_choice", "tool_choice required or a named function cannot be combined with another structured output");
      request.params.structured_outputs = constraint;
    }
  }
  bool has_logprobs = get_bool(body, "logprobs").value_or(false);
  std::optional<int64_t> top_logprobs = get_int(body, "top_logprobs", 0, kMaxLogprobs);
  if (top_logprobs.value_or(0) > 0 && !has_logprobs) {
    throw_field_error("top_logprobs", "when using `top_logprobs`, `logprobs` must be set to true.");
  }
  if (has_logprobs) request.params.logprobs = static_cast<int>(top_logprobs.value_or(0));
  request.return_token_ids = get_bool(body, "return_token_ids").value_or(false);
  if (get_bool(body, "echo").value_or(false)) {
    throw FieldError(ErrorKind::kUnsupported, "echo", "echo is not supported yet for chat completions");
  }
  request.prompt = render_chat_prompt(body, ordered_body, context);
  int num_prompt_tokens = static_cast<int>(request.prompt.token_ids.size());
  set_max_tokens(request.params, resolve_max_tokens(body, num_prompt_tokens, context.engine.max_model_len()));
  context.check_context_length(num_prompt_tokens, request.params.max_tokens);
  return request;
}

json response_head(const ChatRequest& request, const ServerContext& context, const char* object) {
  return {{"id", request.id}, {"object", object}, {"created", request.created}, {"model", context.model_name}};
}

json logprobs_json(const ChatRequest& request, const CompletionOutput& output) {
  if (!request.params.logprobs || !output.logprobs) return nullptr;
  return {{"content", chat_logprobs_content(output.token_ids, *output.logprobs, *request.params.logprobs)}};
}

void respond_whole(const httplib::Request& http_request, httplib::Response& response, const ChatRequest& request,
                   GenerationSession& session, const ServerContext& context) {
  ClientConnection client(http_request);
  RequestOutput final_output;
  while (!session.is_finished()) {
    std::optional<RequestOutput> output = session.next(client);
    if (!output) return;  // the client is gone and its request is aborted
    final_output = std::move(*output);
  }
  std::vector<CompletionOutput> outputs = final_output.outputs;
  std::sort(outputs.begin(), outputs.end(), [](const auto& a, const auto& b) { return a.index < b.index; });
  json choices = json::array();
  int64_t num_generated = 0;
  for (const CompletionOutput& output : outputs) {
    bool has_calls = false;
    json message = {{"role", "assistant"}};
    message.update(answer_fields(request, context, output.text, has_calls));
    json choice = {{"index", output.index},
                   {"message", std::move(message)},
                   {"logprobs", logprobs_json(request, output)},
                   {"finish_reason", has_calls && output.finish_reason == FinishReason::kStop ? json("tool_calls") : finish_reason_json(output)},
                   {"stop_reason", stop_reason_json(output)}};
    if (request.return_token_ids) choice["token_ids"] = output.token_ids;
    choices.push_back(std::move(choice));
    num_generated += static_cast<int64_t>(output.token_ids.size());
  }
  json body = response_head(request, context, "chat.completion");
  body["choices"] = std::move(choices);
  body["usage"] = usage_json(static_cast<int64_t>(request.prompt.token_ids.size()), num_generated);
  if (request.return_token_ids) body["prompt_token_ids"] = request.prompt.token_ids;
  set_json_response(response, body);
}

json chunk_json(const ChatRequest& request, const ServerContext& context, json choice) {
  json chunk = response_head(request, context, "chat.completion.chunk");
  chunk["choices"] = json::array({std::move(choice)});
  return chunk;
}

std::vector<json> opening_chunks(const ChatRequest& request, const ServerContext& context) {
  std::vector<json> chunks;
  for (int i = 0; i < request.params.n; ++i) {
    chunks.push_back(chunk_json(request, context,
                                {{"index", i},
                                 {"delta", {{"role", "assistant"}, {"content", ""}}},
                                 {"logprobs", nullptr},
                                 {"finish_reason", nullptr}}));
  }
  return chunks;
}

void respond_streaming(const httplib::Request& http_request, httplib::Response& response, const ChatRequest& request,
                       std::unique_ptr<GenerationSession> session, const ServerContext& context) {
  auto num_generated = std::make_shared<int64_t>(0);
  auto finished = std::make_shared<std::set<int>>();  // choices whose finish chunk was sent
  auto tool_streams = std::make_shared<std::map<int, ToolCallStream>>();  // by choice, with tools
  int64_t num_prompt_tokens = static_cast<int64_t>(request.prompt.token_ids.size());
  SseCallbacks callbacks;
  callbacks.opening = opening_chunks(request, context);
  callbacks.on_output = [request, &context, num_generated, finished, tool_streams, num_prompt_tokens](const RequestOutput& output) {
    std::vector<json> chunks;
    for (const CompletionOutput& delta : output.outputs) {
      *num_generated += static_cast<int64_t>(delta.token_ids.size());
      if (finished->count(delta.index) != 0) continue;
      if (delta.finish_reason) finished->insert(delta.index);
      if (delta.text.empty() && delta.token_ids.empty() && !delta.finish_reason) continue;
      std::vector<json> deltas;
      bool has_calls = false;
      if (request.tools) {
        auto [it, is_new] = tool_streams->try_emplace(delta.index, *request.tools, tool_config(context),
                                                      [&context] { return context.new_request_id("call_"); });
        deltas = it->second.feed(delta.text, delta.finish_reason.has_value());
        has_calls = it->second.has_calls();
        // The finish reason comes alone after the last piece, as OpenAI sends it.
        if (delta.finish_reason) deltas.push_back(json::object());
      } else {
        deltas.push_back(delta.text.empty() ? json::object() : json{{"content", delta.text}});
      }
      for (size_t k = 0; k < deltas.size(); ++k) {
        const bool is_first = k == 0, is_last = k + 1 == deltas.size();
        json choice = {{"index", delta.index},
                       {"delta", std::move(deltas[k])},
                       {"logprobs", is_first ? logprobs_json(request, delta) : json(nullptr)},
                       {"finish_reason", !is_last ? json(nullptr)
                                         : has_calls && delta.finish_reason == FinishReason::kStop ? json("tool_calls")
                                                                                       : finish_reason_json(delta)},
                       {"stop_reason", is_last ? stop_reason_json(delta) : json(nullptr)}};
        if (request.return_token_ids) choice["token_ids"] = is_first ? delta.token_ids : std::vector<int32_t>{};
        chunks.push_back(chunk_json(request, context, std::move(choice)));
        if (request.stream.continuous_usage_stats) chunks.back()["usage"] = usage_json(num_prompt_tokens, *num_generated);
      }
    }
    return chunks;
  };
  callbacks.on_end = [request, &context, num_generated, num_prompt_tokens]() -> std::vector<json> {
    if (!request.stream.include_usage) return {};
    json chunk = response_head(request, context, "chat.completion.chunk");
    chunk["choices"] = json::array();
    chunk["usage"] = usage_json(num_prompt_tokens, *num_generated);
    return {chunk};
  };
  start_sse_response(http_request, response, std::move(session), std::move(callbacks));
}

}  // namespace

void register_chat_completions_route(httplib::Server& server, ServerContext& context) {
  server.Post("/v1/chat/completions", [&context](const httplib::Request& http_request, httplib::Response& response) {
    const json body = parse_json_body(http_request.body);
    ChatRequest request = parse_request(body, parse_ordered_json_body(http_request.body), context);
    auto session = std::make_unique<GenerationSession>(
        context.engine, context.active, request.stream.is_stream ? OutputKind::kDelta : OutputKind::kFinalOnly,
        context.admit(request.params.n));
    session->add(request.id, PromptInput{request.prompt.text, request.prompt.token_ids, false}, request.params,
                 request.lora_name);
    if (request.stream.is_stream) {
      respond_streaming(http_request, response, request, std::move(session), context);
    } else {
      respond_whole(http_request, response, request, *session, context);
    }
  });
}

}  // namespace pagedllm
