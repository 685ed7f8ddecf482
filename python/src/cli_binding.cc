// The `pagedllm` command line inside the Python process, so that `python3 -m pagedllm.entrypoints.openai.api_server`
// runs the very server of `pagedllm serve` with the same flags, without locating the binary.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <CLI/CLI.hpp>

#include <cstdio>
#include <string>
#include <vector>

#include "bindings.h"
#include "cli/commands.h"
#include "util/error.h"

namespace py = pybind11;

namespace pagedllm::python {
namespace {

// argv[0] is the program name. Returns the exit code main() would; the GIL is released meanwhile, and the server
// installs its own SIGINT/SIGTERM handlers for its graceful shutdown.
int cli_main(std::vector<std::string> argv) {
  CLI::App app{"pagedllm: a paged-attention inference engine and QLoRA trainer for Hugging Face models"};
  app.require_subcommand(1);
  add_generate_command(app);
  add_tokenizer_commands(app);
  add_bench_command(app);
  add_serve_command(app);
  add_quant_commands(app);
  add_train_commands(app);
  std::vector<char*> args;
  for (auto& a : argv) args.push_back(a.data());
  try {
    app.parse(int(args.size()), args.data());
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const Error& e) {
    std::fprintf(stderr, "pagedllm: error (%s): %s\n", error_kind_name(e.kind()), e.what());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "pagedllm: error: %s\n", e.what());
    return 1;
  }
  return 0;
}

}  // namespace

void bind_cli(py::module_& m) {
  m.def("cli_main", &cli_main, py::arg("argv"), py::call_guard<py::gil_scoped_release>(),
        "Runs the pagedllm command line (argv[0] is the program name) and returns its exit code");
}

}  // namespace pagedllm::python
