// `--help` text that shows every default: CLI11 prints an option's captured default ("--port INT=8000") but not a
// flag's, and it marks the negated name of an on/off flag with "{false}", which reads as if the default were off.
// This formatter prints on/off flags as "--name, --no-name  (default: on)".
#pragma once

#include <CLI/CLI.hpp>

#include <string>

namespace pagedllm {

class HelpFormatter : public CLI::Formatter {
 public:
  std::string make_option_name(const CLI::Option* option, bool is_positional) const override;
  std::string make_option_opts(const CLI::Option* option) const override;
};

}  // namespace pagedllm
