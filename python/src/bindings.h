// The pieces of the native module _pagedllm, one binder per concept; module.cc calls them all.
#pragma once

#include <pybind11/pybind11.h>

#include <string_view>

namespace pagedllm::python {

void bind_errors(pybind11::module_& m);
void bind_engine(pybind11::module_& m);     // EngineArgs, SamplingParams, PromptInput, Engine
void bind_tokenizer(pybind11::module_& m);  // Tokenizer, render_chat_template
void bind_finetune(pybind11::module_& m);   // TrainerConfig, run_finetune
void bind_cli(pybind11::module_& m);        // cli_main (the `pagedllm` command line, in process)

// Engine text may end inside a multi-byte character (a byte-fallback token alone); Python strings must be valid,
// so invalid bytes become U+FFFD as Hugging Face's decode does.
pybind11::str to_str(std::string_view text);

// Runs Python's pending signal handlers (Ctrl-C). Call with the GIL held; throws error_already_set (for example
// KeyboardInterrupt) when a handler raised.
void check_signals();

}  // namespace pagedllm::python
