// The bodies of `pagedllm tokenize` and `pagedllm detokenize` (JSON lines in, JSON lines out), kept here so that
// tests and the conformance script drive exactly what the CLI runs.
#pragma once

#include <iosfwd>
#include <string>

namespace pagedllm {

// Reads lines {"text": "..."} from `in`; writes {"ids": [...], "tokens": [...]} per line to `out`.
// Returns 0, or 1 after writing {"error": "..."} for a line that is not such an object (later lines still run).
// Throws Error when the tokenizer cannot be loaded.
int run_tokenize_command(const std::string& tokenizer_path, bool add_special_tokens, std::istream& in,
                         std::ostream& out);

// Reads lines {"ids": [...]} from `in`; writes {"text": "..."} per line, with the same error convention.
int run_detokenize_command(const std::string& tokenizer_path, bool skip_special_tokens, std::istream& in,
                           std::ostream& out);

}  // namespace pagedllm
