#include "cli/chat_template_flag.h"

#include "server/server_config.h"
#include "util/error.h"

namespace pagedllm {

std::string read_chat_template_flag(const std::string& argument) {
  std::string text = load_chat_template_arg(argument);
  if (text == argument && argument.find("{{") == std::string::npos && argument.find("{%") == std::string::npos) {
    throw_error(ErrorKind::kNotFound,
                "--chat-template {}: no such file, and not an inline Jinja template (tests/fixtures/chat_templates/ "
                "holds examples)",
                argument);
  }
  return text;
}

}  // namespace pagedllm
