// POST /v1/completions: OpenAI's legacy completions, with vLLM's extras (see sampling_fields.h) and
// `return_token_ids` (choices carry token_ids and prompt_token_ids). Several prompts and n > 1 give
// prompt-major choices: index = prompt * n + sample.
#include <httplib.h>

#include <set>

#include "server/api_error.h"
#include "server/client_connection.h"
#include "server/completion_prompts.h"
#include "server/request_fields.h"
#include "server/logprobs_format.h"
#include "server/response_common.h"
#include "server/routes.h"
#include "server/sampling_fields.h"
#include "server/server_context.h"
#include "server/streaming_response.h"
#include "tokenizer/tokenizer.h"

namespace pagedllm {
namespace {

struct CompletionRequest {
  std::string id;
  std::string lora_name;
  std::vector<CompletionPrompt> prompts;
  SamplingParams params;
  StreamOptions stream;
  bool is_echo = false;
  bool return_token_ids = false;
  int64_t created = unix_time_now();
};

CompletionRequest parse_request(const json& body, const nlohmann::ordered_json& ordered_body, const ServerContext& context) {
  CompletionRequest request;
  request.id = context.new_request_id("cmpl-");
  request.lora_name = context.resolve_model(body);
  reject_unsupported_fields(body);
  request.stream = parse_stream_options(body);
  const Tokenizer& tokenizer = context.engine.tokenizer();
  request.params = parse_sampling_fields(body, ordered_body, tokenizer.vocab_size());
  set_max_tokens(request.params, static_cast<int>(get_int(body, "max_tokens", 1, INT32_MAX).value_or(16)));
  if (std::optional<int64_t> logprobs = get_int(body, "logprobs", 0, kMaxLogprobs)) {
    request.params.logprobs = static_cast<int>(*logprobs);
  }
  request.is_echo = get_bool(body, "echo").value_or(false);
  if (request.is_echo && request.params.logprobs) {
    throw FieldError(ErrorKind::kUnsupported, "echo", "echo together with logprobs is not supported yet");
  }
  request.return_token_ids = get_bool(body, "return_token_ids").value_or(false);
  bool add_special_tokens = get_bool(body, "add_special_tokens").value_or(true);
  request.prompts = parse_completion_prompts(body, tokenizer, add_special_tokens);
  for (const CompletionPrompt& prompt : request.prompts) {
    context.check_context_length(static_cast<int>(prompt.token_ids.size()), request.params.max_tokens);
  }
  return request;
}

std::unique_ptr<GenerationSession> submit(const CompletionRequest& request, ServerContext& context) {
  int num_sequences = static_cast<int>(request.prompts.size()) * request.params.n;
  auto session = std::make_unique<GenerationSession>(
      context.engine, context.active, request.stream.is_stream ? OutputKind::kDelta : OutputKind::kFinalOnly,
      context.admit(num_sequences));
  for (size_t i = 0; i < request.prompts.size(); ++i) {
    PromptInput input{request.prompts[i].text, request.prompts[i].token_ids, false};
    std::string engine_id = request.prompts.size() == 1 ? request.id : fmt::format("{}-{}", request.id, i);
    session->add(engine_id, input, request.params, request.lora_name);
  }
  return session;
}

int64_t num_prompt_tokens(const CompletionRequest& request) {
  int64_t total = 0;
  for (const CompletionPrompt& prompt : request.prompts) total += static_cast<int64_t>(prompt.token_ids.size());
  return total;
}

json response_head(const CompletionRequest& request, const ServerContext& context) {
  return {{"id", request.id}, {"object", "text_completion"}, {"created", request.created},
          {"model", context.model_name}};
}

json choice_json(const CompletionRequest& request, size_t prompt_index, const CompletionOutput& output,
                 const std::string& text, json logprobs) {
  json choice = {{"index", prompt_index * request.params.n + output.index},
                 {"text", text},
                 {"logprobs", std::move(logprobs)},
                 {"finish_reason", finish_reason_json(output)},
                 {"stop_reason", stop_reason_json(output)}};
  if (request.return_token_ids) choice["token_ids"] = output.token_ids;
  return choice;
}

void respond_whole(const httplib::Request& http_request, httplib::Response& response,
                   const CompletionRequest& request, GenerationSession& session, const ServerContext& context) {
  ClientConnection client(http_request);
  std::vector<RequestOutput> finals(request.prompts.size());
  while (!session.is_finished()) {
    std::optional<RequestOutput> output = session.next(client);
    if (!output) return;  // the client is gone and its requests are aborted; nobody reads a response
    finals[session.prompt_index(output->request_id)] = std::move(*output);
  }
  json choices = json::array();
  int64_t num_generated = 0;
  for (size_t p = 0; p < finals.size(); ++p) {
    std::vector<CompletionOutput> outputs = finals[p].outputs;
    std::sort(outputs.begin(), outputs.end(), [](const auto& a, const auto& b) { return a.index < b.index; });
    for (const CompletionOutput& output : outputs) {
      json logprobs = nullptr;
      if (request.params.logprobs && output.logprobs) {
        size_t offset = 0;
        logprobs = completion_logprobs(output.token_ids, *output.logprobs, *request.params.logprobs, offset);
      }
      std::string text = request.is_echo ? request.prompts[p].text + output.text : output.text;
      choices.push_back(choice_json(request, p, output, text, std::move(logprobs)));
      if (request.return_token_ids) choices.back()["prompt_token_ids"] = request.prompts[p].token_ids;
      num_generated += static_cast<int64_t>(output.token_ids.size());
    }
  }
  json body = response_head(request, context);
  body["choices"] = std::move(choices);
  body["usage"] = usage_json(num_prompt_tokens(request), num_generated);
  set_json_response(response, body);
}

// Per-choice progress of a stream, keyed by choice index.
struct StreamProgress {
  std::map<size_t, bool> has_echoed;
  std::map<size_t, size_t> text_offset;
  std::set<size_t> finished;  // choices whose finish chunk was sent; later (empty) deltas of them are dropped
  int64_t num_generated = 0;
};

std::vector<json> stream_chunks(const CompletionRequest& request, const ServerContext& context,
                                const GenerationSession& session, StreamProgress& progress,
                                const RequestOutput& output) {
  size_t prompt_index = session.prompt_index(output.request_id);
  std::vector<json> chunks;  // one per choice, as vLLM streams them
  for (const CompletionOutput& delta : output.outputs) {
    size_t index = prompt_index * request.params.n + delta.index;
    if (progress.finished.count(index) != 0) continue;
    if (delta.finish_reason) progress.finished.insert(index);
    std::string text = delta.text;
    if (request.is_echo && !progress.has_echoed[index]) {
      progress.has_echoed[index] = true;
      text = request.prompts[prompt_index].text + text;
    }
    json logprobs = nullptr;
    if (request.params.logprobs && delta.logprobs) {
      logprobs = completion_logprobs(delta.token_ids, *delta.logprobs, *request.params.logprobs,
                                     progress.text_offset[index]);
    }
    progress.num_generated += static_cast<int64_t>(delta.token_ids.size());
    if (text.empty() && delta.token_ids.empty() && !delta.finish_reason) continue;
    json chunk = response_head(request, context);
    chunk["choices"] = json::array({choice_json(request, prompt_index, delta, text, std::move(logprobs))});
    if (request.stream.continuous_usage_stats) {
      chunk["usage"] = usage_json(num_prompt_tokens(request), progress.num_generated);
    }
    chunks.push_back(std::move(chunk));
  }
  return chunks;
}

void respond_streaming(const httplib::Request& http_request, httplib::Response& response,
                       const CompletionRequest& request, std::unique_ptr<GenerationSession> session,
                       const ServerContext& context) {
  auto progress = std::make_shared<StreamProgress>();
  const GenerationSession& session_ref = *session;
  SseCallbacks callbacks;
  callbacks.on_output = [request, &context, &session_ref, progress](const RequestOutput& output) {
    return stream_chunks(request, context, session_ref, *progress, output);
  };
  callbacks.on_end = [request, &context, progress]() -> std::vector<json> {
    if (!request.stream.include_usage) return {};
    json chunk = response_head(request, context);
    chunk["choices"] = json::array();
    chunk["usage"] = usage_json(num_prompt_tokens(request), progress->num_generated);
    return {chunk};
  };
  start_sse_response(http_request, response, std::move(session), std::move(callbacks));
}

}  // namespace

void register_completions_route(httplib::Server& server, ServerContext& context) {
  server.Post("/v1/completions", [&context](const httplib::Request& http_request, httplib::Response& response) {
    const json body = parse_json_body(http_request.body);
    CompletionRequest request = parse_request(body, parse_ordered_json_body(http_request.body), context);
    std::unique_ptr<GenerationSession> session = submit(request, context);
    if (request.stream.is_stream) {
      respond_streaming(http_request, response, request, std::move(session), context);
    } else {
      respond_whole(http_request, response, request, *session, context);
    }
  });
}

}  // namespace pagedllm
