// The subcommands of `pagedllm`. Each add_*_command registers its flags and a callback that runs it; the
// callback reports bad input as pagedllm::Error, which main() turns into a message and exit code 1.
#pragma once

#include <CLI/CLI.hpp>

namespace pagedllm {

void add_generate_command(CLI::App& app);
void add_serve_command(CLI::App& app);
void add_chat_command(CLI::App& app);        // a terminal chat over the model's chat template
void add_tokenizer_commands(CLI::App& app);  // tokenize, detokenize, chat-template
void add_bench_command(CLI::App& app);
void add_quant_commands(CLI::App& app);      // quantize, inspect, perplexity
void add_train_commands(CLI::App& app);      // finetune, merge

}  // namespace pagedllm
