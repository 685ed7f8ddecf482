#include "server/server_context.h"

#include <algorithm>
#include <mutex>
#include <random>

#include "server/api_error.h"
#include "server/request_fields.h"
#include "tokenizer/chat_template.h"
#include "tokenizer/tokenizer.h"

namespace pagedllm {
namespace {

std::string first_served_name(const ServerConfig& config) {
  return config.served_model_names.empty() ? default_served_model_name(config.model_path)
                                           : config.served_model_names.front();
}

}  // namespace

ServerContext::ServerContext(EngineClient& engine, ServerConfig config)
    : engine(engine),
      config(std::move(config)),
      model_name(first_served_name(this->config)),
      admission_(this->config.max_num_seqs, this->config.max_queued_requests) {
  std::string source = this->config.chat_template;
  if (source.empty()) source = engine.tokenizer().chat_template().value_or("");
  if (!source.empty()) chat_template_ = std::make_unique<ChatTemplate>(source);
}

ServerContext::~ServerContext() = default;

std::string ServerContext::resolve_model(const nlohmann::json& body) const {
  std::optional<std::string> requested = get_string(body, "model");
  if (!requested || *requested == model_name) return "";
  const std::vector<std::string>& names = config.served_model_names;
  if (std::find(names.begin(), names.end(), *requested) != names.end()) return "";
  std::vector<std::string> loras = engine.lora_names();
  if (std::find(loras.begin(), loras.end(), *requested) != loras.end()) return *requested;
  throw FieldError(ErrorKind::kNotFound, "model", fmt::format("The model `{}` does not exist.", *requested));
}

AdmissionTicket ServerContext::admit(int num_sequences) {
  if (is_draining) throw Error(ErrorKind::kResourceExhausted, "The server is shutting down");
  return admission_.admit(num_sequences);
}

void ServerContext::check_context_length(int num_prompt_tokens, int max_tokens) const {
  int max_model_len = engine.max_model_len();
  if (num_prompt_tokens >= max_model_len) {
    throw FieldError(ErrorKind::kInvalidArgument, "input_tokens",
                     fmt::format("This model's maximum context length is {} tokens. However, your request has {} "
                                 "input tokens. Please reduce the length of the input messages.",
                                 max_model_len, num_prompt_tokens));
  }
  if (num_prompt_tokens + max_tokens > max_model_len) {
    throw FieldError(ErrorKind::kInvalidArgument, "input_tokens",
                     fmt::format("This model's maximum context length is {} tokens. However, you requested {} "
                                 "output tokens and your prompt contains {} input tokens, for a total of {} "
                                 "tokens. Please reduce the length of the input prompt or the number of requested "
                                 "output tokens.",
                                 max_model_len, max_tokens, num_prompt_tokens, num_prompt_tokens + max_tokens));
  }
}

const ChatTemplate& ServerContext::chat_template() const {
  if (chat_template_ == nullptr) {
    throw Error(ErrorKind::kInvalidArgument,
                "The model's tokenizer defines no chat template and the server was started without one: restart it "
                "with --chat-template FILE (a Jinja chat template; tests/fixtures/chat_templates/ holds examples).");
  }
  return *chat_template_;
}

std::string ServerContext::new_request_id(const std::string& prefix) const {
  static std::mutex mutex;
  static std::mt19937_64 generator{std::random_device{}()};
  std::lock_guard<std::mutex> lock(mutex);
  return fmt::format("{}{:016x}{:016x}", prefix, generator(), generator());
}

}  // namespace pagedllm
