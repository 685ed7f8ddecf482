// State shared by every route of one OpenAIServer: the engine, the settings, the chat template, the requests in
// flight, and the checks every generation request goes through (model name, admission, context length).
//
// Thread-safety: routes run on many HTTP threads at once; everything here is read-only after construction except
// `active` (locked) and `is_draining` (atomic).
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "engine/engine_client.h"
#include "server/admission.h"
#include "server/generation_session.h"
#include "server/server_config.h"

namespace pagedllm {

class ChatTemplate;

class ServerContext {
 public:
  // Compiles the chat template (config.chat_template, else the tokenizer's); a template that does not parse
  // throws, so a bad --chat-template stops the server at start.
  ServerContext(EngineClient& engine, ServerConfig config);
  ~ServerContext();

  EngineClient& engine;
  const ServerConfig config;
  const std::string model_name;  // the first served name
  ActiveRequests active;
  std::atomic<bool> is_draining{false};

  // The LoRA adapter a request's "model" field selects: "" for the base model (absent field included).
  // 404 "The model `x` does not exist." for unknown names.
  std::string resolve_model(const nlohmann::json& body) const;

  // Admits a request of num_sequences (see admission.h): 503 while shutting down or when max_queued_requests
  // sequences wait. The sequences count until the ticket is destroyed.
  AdmissionTicket admit(int num_sequences);

  // vLLM's 400s: a prompt that fills the context, or prompt + max_tokens beyond it.
  void check_context_length(int num_prompt_tokens, int max_tokens) const;

  // The chat template, or 400 with vLLM's message when neither the tokenizer nor --chat-template has one.
  const ChatTemplate& chat_template() const;

  // "cmpl-" + 32 random hex digits; unique for the life of the process.
  std::string new_request_id(const std::string& prefix) const;

 private:
  std::unique_ptr<ChatTemplate> chat_template_;
  AdmissionControl admission_;
};

}  // namespace pagedllm
