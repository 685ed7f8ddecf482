// The --chat-template flag of serve, chat and finetune: a Jinja template given as a file or as inline text.
#pragma once

#include <string>

namespace pagedllm {

// The template text: the file's contents when `argument` names a file, else `argument` itself when it looks like
// Jinja ("{{" or "{%"). Throws Error(kNotFound) otherwise, so that a mistyped path is not taken for a template.
std::string read_chat_template_flag(const std::string& argument);

}  // namespace pagedllm
