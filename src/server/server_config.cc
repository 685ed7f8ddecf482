#include "server/server_config.h"

#include <filesystem>

#include "util/mapped_file.h"

namespace pagedllm {

std::string load_chat_template_arg(const std::string& argument) {
  std::error_code error;
  if (std::filesystem::is_regular_file(argument, error)) return read_text_file(argument);
  return argument;
}

std::string default_served_model_name(const std::string& model_path) {
  std::filesystem::path path(model_path);
  if (!path.has_filename()) path = path.parent_path();
  std::string name = path.filename().string();
  return name.empty() ? "pagedllm" : name;
}

}  // namespace pagedllm
