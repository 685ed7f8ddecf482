// pagedllm: serve and fine-tune Hugging Face LLMs on CPU. Every subcommand lives in src/cli.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <string>
#include <memory>

#include "cli/commands.h"
#include "cli/engine_flags.h"
#include "cli/help_formatter.h"
#include "cli/usage_errors.h"
#include "dist/communicator.h"
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
  pagedllm::expand_parallel_short_flags(argc, argv);
  // A rank that fails while the others may wait for it in a collective ends them all (Communicator::abort).
  auto fail = [](const std::string& text) {
    if (pagedllm::launched_by_mpi() && pagedllm::Communicator::world().size() > 1) {
      pagedllm::Communicator::world().abort(1, text);
    }
    std::fprintf(stderr, "%s\n", text.c_str());
    return 1;
  };
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return pagedllm::report_parse_error(app, e);
  } catch (const pagedllm::Error& e) {
    return fail(std::string("pagedllm: error (") + pagedllm::error_kind_name(e.kind()) + "): " + e.what());
  } catch (const std::exception& e) {
    return fail(std::string("pagedllm: error: ") + e.what());
  }
  return 0;
}
