// Command-line mistakes turned into messages a new user can act on: an unknown subcommand or flag gets the nearest
// real one ("did you mean --max-tokens?"), a missing subcommand lists them all. Every usage error exits with 2 (as
// vLLM's argparse does); --help and --version exit with 0.
#pragma once

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

namespace pagedllm {

// Prints the message for `error` (raised by app.parse) to stderr, or the help/version text to stdout, and returns
// the exit code.
int report_parse_error(CLI::App& app, const CLI::ParseError& error);

// The candidate closest to `typed` (names compared without leading dashes), or "" when none is close enough to be
// a plausible typo or rewording: within an edit distance of about a third of the name, or sharing all the words of
// the shorter one ("max-new-tokens" -> "max-tokens").
std::string nearest_name(const std::string& typed, const std::vector<std::string>& candidates);

}  // namespace pagedllm
