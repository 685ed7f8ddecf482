#include "cli/help_formatter.h"

namespace pagedllm {
namespace {

bool is_flag(const CLI::Option* option) { return option->get_items_expected() == 0; }

}  // namespace

std::string HelpFormatter::make_option_name(const CLI::Option* option, bool is_positional) const {
  if (is_positional || !is_flag(option)) return CLI::Formatter::make_option_name(option, is_positional);
  std::string names;
  for (const std::string& name : option->get_snames()) names += (names.empty() ? "-" : ",-") + name;
  for (const std::string& name : option->get_lnames()) names += (names.empty() ? "--" : ",--") + name;
  return names;
}

std::string HelpFormatter::make_option_opts(const CLI::Option* option) const {
  if (!is_flag(option)) {
    // An empty list's captured default, "[]", says nothing.
    std::string opts = CLI::Formatter::make_option_opts(option);
    const size_t empty_list = opts.find("=[]");
    if (empty_list != std::string::npos) opts.erase(empty_list, 3);
    return opts;
  }
  const std::string value = option->get_default_str();
  if (value == "true") return " (default: on)";
  if (value == "false" && option->get_lnames().size() > 1) return " (default: off)";
  return "";
}

}  // namespace pagedllm
