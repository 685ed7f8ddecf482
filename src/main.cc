// pagedllm: serve and fine-tune Hugging Face LLMs on CPU. Every subcommand lives in src/cli.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <memory>

#include "cli/commands.h"
#include "cli/help_formatter.h"
#include "cli/usage_errors.h"
#include "util/error.h"
#include "util/malloc_policy.h"

int main(int argc, char** argv) {
  pagedllm::use_reusing_malloc_policy();
  CLI::App app{"pagedllm: a paged-attention inference engine and QLoRA trainer for Hugging Face models"};
  app.set_version_flag("--version", "pagedllm " PAGEDLLM_VERSION);
  app.require_subcommand(1);
  // Subcommands copy these, so every option's --help line shows its default value.
  app.option_defaults()->always_capture_default();
  app.formatter(std::make_shared<pagedllm::HelpFormatter>());
  pagedllm::add_generate_command(app);
  pagedllm::add_chat_command(app);
  pagedllm::add_serve_command(app);
  pagedllm::add_tokenizer_commands(app);
  pagedllm::add_bench_command(app);
  pagedllm::add_quant_commands(app);
  pagedllm::add_train_commands(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return pagedllm::report_parse_error(app, e);
  } catch (const pagedllm::Error& e) {
    std::fprintf(stderr, "pagedllm: error (%s): %s\n", pagedllm::error_kind_name(e.kind()), e.what());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "pagedllm: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
