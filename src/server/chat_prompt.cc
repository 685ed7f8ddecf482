#include "server/chat_prompt.h"

#include "server/api_error.h"
#include "server/request_fields.h"
#include "server/server_context.h"
#include "tokenizer/chat_template.h"
#include "tokenizer/tokenizer.h"

namespace pagedllm {
namespace {

bool is_known_role(const std::string& role) {
  return role == "system" || role == "developer" || role == "user" || role == "assistant" || role == "tool";
}

std::string flatten_content(const json& content, const std::string& param) {
  if (content.is_null()) return "";
  if (content.is_string()) return content.get<std::string>();
  if (!content.is_array()) throw_field_error(param, "{} must be a string or a list of content parts", param);
  std::string text;
  for (size_t j = 0; j < content.size(); ++j) {
    std::string part_param = fmt::format("{}[{}]", param, j);
    const json& part = content[j];
    if (!part.is_object()) throw_field_error(part_param, "{} must be an object", part_param);
    std::string type = get_string(part, "type").value_or("");
    if (type != "text") {
      throw FieldError(ErrorKind::kUnsupported, part_param + ".type",
                       fmt::format("content parts of type \"{}\" are not supported yet", type));
    }
    std::optional<std::string> part_text = get_string(part, "text");
    if (!part_text) throw_field_error(part_param + ".text", "{}.text is required", part_param);
    if (!text.empty()) text += '\n';
    text += *part_text;
  }
  return text;
}

}  // namespace

json normalize_chat_messages(const json& body) {
  const json* messages = find_field(body, "messages");
  if (messages == nullptr || !messages->is_array() || messages->empty()) {
    throw_field_error("messages", "messages must be a non-empty list of messages");
  }
  json normalized = json::array();
  for (size_t i = 0; i < messages->size(); ++i) {
    std::string param = fmt::format("messages[{}]", i);
    const json& message = (*messages)[i];
    if (!message.is_object()) throw_field_error(param, "{} must be an object", param);
    const json* role_value = find_field(message, "role");
    std::optional<std::string> role;
    if (role_value != nullptr) role = as_string(*role_value, param + ".role");
    if (!role || !is_known_role(*role)) {
      throw_field_error(param + ".role", "{}.role must be one of system, developer, user, assistant, tool", param);
    }
    json copy = message;
    copy["content"] = flatten_content(message.value("content", json(nullptr)), param + ".content");
    normalized.push_back(std::move(copy));
  }
  return normalized;
}

ChatPrompt render_chat_prompt(const json& body, const nlohmann::ordered_json& ordered_body, const ServerContext& context) {
  if (get_bool(body, "continue_final_message").value_or(false)) {
    throw FieldError(ErrorKind::kUnsupported, "continue_final_message", "continue_final_message is not supported yet");
  }
  if (find_field(body, "chat_template") != nullptr) {
    throw FieldError(ErrorKind::kUnsupported, "chat_template",
                     "a per-request chat_template is not supported yet; start the server with --chat-template");
  }
  const Tokenizer& tokenizer = context.engine.tokenizer();
  ChatTemplateInputs inputs;
  inputs.messages = normalize_chat_messages(body);
  // The template sees the tools unless tool_choice is "none" (then the model is not offered them).
  const json* tools = find_field(body, "tools");
  const json* tool_choice = find_field(body, "tool_choice");
  inputs.tools = tools != nullptr && tools->is_array() && !tools->empty() && !(tool_choice && *tool_choice == "none") ? ordered_body.at("tools") : nlohmann::ordered_json(nullptr);
  inputs.add_generation_prompt = get_bool(body, "add_generation_prompt").value_or(true);
  inputs.bos_token = tokenizer.bos_token();
  inputs.eos_token = tokenizer.eos_token();
  const json* kwargs = get_object(body, "chat_template_kwargs");
  inputs.extra = kwargs != nullptr ? *kwargs : json::object();
  const ChatTemplate& chat_template = context.chat_template();
  ChatPrompt prompt;
  try {
    prompt.text = chat_template.render(inputs);
  } catch (const Error& e) {
    throw FieldError(ErrorKind::kInvalidArgument, "messages",
                     fmt::format("The chat template failed to render the messages: {}", e.what()));
  }
  prompt.token_ids = tokenizer.encode(prompt.text, get_bool(body, "add_special_tokens").value_or(false));
  if (prompt.token_ids.empty()) throw_field_error("messages", "The rendered chat prompt is empty");
  return prompt;
}

}  // namespace pagedllm
