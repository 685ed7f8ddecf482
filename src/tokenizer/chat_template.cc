#include "tokenizer/chat_template.h"

#include <istream>
#include <ostream>

#include "jinja/globals.h"
#include "jinja/interpreter.h"
#include "jinja/parser.h"
#include "util/error.h"

namespace pagedllm {

ChatTemplate::ChatTemplate(const std::string& source) {
  try {
    body_ = std::make_shared<jinja::StmtList>(jinja::parse_template(source));
  } catch (const jinja::TemplateError& e) {
    throw_error(ErrorKind::kInvalidArgument, "chat template: {}", e.what());
  }
}

std::string ChatTemplate::render(const ChatTemplateInputs& inputs) const {
  if (!inputs.extra.is_object()) throw_error(ErrorKind::kInvalidArgument, "chat template: extra variables must be an object");
  try {
    auto globals = std::make_shared<jinja::Scope>();
    jinja::add_builtin_globals(*globals);
    globals->set("messages", jinja::Value::from_json(inputs.messages));
    globals->set("tools", jinja::Value::from_json(inputs.tools));
    globals->set("documents", jinja::Value(jinja::None{}));
    globals->set("add_generation_prompt", jinja::Value(inputs.add_generation_prompt));
    if (!inputs.bos_token.empty()) globals->set("bos_token", jinja::Value(inputs.bos_token));
    if (!inputs.eos_token.empty()) globals->set("eos_token", jinja::Value(inputs.eos_token));
    for (auto it = inputs.extra.begin(); it != inputs.extra.end(); ++it)
      globals->set(it.key(), jinja::Value::from_json(*it));
    jinja::Interpreter interp;
    return interp.render(*body_, globals);
  } catch (const jinja::TemplateError& e) {
    throw_error(ErrorKind::kInvalidArgument, "chat template: {}", e.what());
  }
}

std::string render_chat_template(const std::string& template_source, const ChatTemplateInputs& inputs) {
  return ChatTemplate(template_source).render(inputs);
}

int run_chat_template_command(const std::string& template_source, const std::string& bos, const std::string& eos,
                              bool add_generation_prompt, std::istream& in, std::ostream& out) {
  nlohmann::ordered_json request;
  try {
    request = nlohmann::ordered_json::parse(in);
  } catch (const nlohmann::ordered_json::exception& e) {
    throw_error(ErrorKind::kInvalidArgument, "chat-template: stdin is not one JSON object: {}", e.what());
  }
  if (!request.is_object() || !request.contains("messages") || !request["messages"].is_array())
    throw_error(ErrorKind::kInvalidArgument, "chat-template: input must be an object with a \"messages\" array");
  ChatTemplateInputs inputs;
  inputs.bos_token = bos;
  inputs.eos_token = eos;
  inputs.add_generation_prompt = add_generation_prompt;
  for (auto it = request.begin(); it != request.end(); ++it) {
    if (it.key() == "messages") inputs.messages = *it;
    else if (it.key() == "tools") inputs.tools = *it;
    else inputs.extra[it.key()] = *it;
  }
  const nlohmann::json response = {{"prompt", ChatTemplate(template_source).render(inputs)}};
  out << response.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
  return 0;
}

}  // namespace pagedllm
