#include "cli/usage_errors.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <set>

namespace pagedllm {
namespace {

std::string strip_dashes(const std::string& name) {
  return name.substr(std::min(name.find_first_not_of('-'), name.size()));
}

size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

std::set<std::string> words(const std::string& name) {
  std::set<std::string> out;
  size_t begin = 0;
  while (begin <= name.size()) {
    const size_t end = std::min(name.find_first_of("-_", begin), name.size());
    if (end > begin) out.insert(name.substr(begin, end - begin));
    begin = end + 1;
  }
  return out;
}

bool shares_all_words(const std::string& a, const std::string& b) {
  const std::set<std::string> wa = words(a), wb = words(b);
  const auto& small = wa.size() <= wb.size() ? wa : wb;
  const auto& large = wa.size() <= wb.size() ? wb : wa;
  return small.size() >= 2 && std::includes(large.begin(), large.end(), small.begin(), small.end());
}

// The subcommand the user reached (`bench throughput` for "pagedllm bench throughput --x"), or the app itself.
CLI::App* deepest_subcommand(CLI::App& app) {
  CLI::App* command = &app;
  while (!command->get_subcommands().empty()) command = command->get_subcommands().front();
  return command;
}

std::string command_path(const CLI::App* command) {
  std::string path;
  for (const CLI::App* c = command; c != nullptr; c = c->get_parent()) {
    path = c->get_parent() == nullptr ? "pagedllm" + path : " " + c->get_name() + path;
  }
  return path;
}

std::vector<std::string> subcommand_names(CLI::App& command) {
  std::vector<std::string> names;
  for (const CLI::App* sub : command.get_subcommands([](CLI::App*) { return true; })) names.push_back(sub->get_name());
  return names;
}

std::vector<std::string> flag_names(const CLI::App& command) {
  std::vector<std::string> names;
  for (const CLI::Option* option : command.get_options()) {
    for (const std::string& name : option->get_lnames()) names.push_back("--" + name);
  }
  return names;
}

std::string did_you_mean(const std::string& typed, const std::vector<std::string>& candidates) {
  const std::string nearest = nearest_name(typed, candidates);
  return nearest.empty() ? "" : fmt::format("; did you mean {}?", nearest);
}

int usage_error(const std::string& message) {
  std::fprintf(stderr, "%s\n", message.c_str());
  return 2;
}

bool is_flag(const std::string& arg) { return arg.size() >= 2 && arg[0] == '-'; }

// Arguments the parser matched to nothing: a word where a subcommand belongs (an unknown subcommand), else unknown
// flags (each with its nearest real flag), else stray values.
int report_unmatched(CLI::App* command, const std::vector<std::string>& unmatched) {
  const std::string path = command_path(command);
  const std::vector<std::string> subcommands = subcommand_names(*command);
  if (!subcommands.empty() && !is_flag(unmatched.front())) {
    return usage_error(fmt::format("{}: unknown subcommand '{}'{}\nthe subcommands are: {} (`{} --help` describes them)",
                                   path, unmatched.front(), did_you_mean(unmatched.front(), subcommands),
                                   fmt::join(subcommands, ", "), path));
  }
  std::string message;
  for (const std::string& arg : unmatched) {
    if (!is_flag(arg)) continue;
    const std::string flag = arg.substr(0, arg.find('='));
    message += fmt::format("{}{}: unknown flag {}{}", message.empty() ? "" : "\n", path, flag,
                           did_you_mean(flag, flag_names(*command)));
  }
  if (message.empty()) {
    message = fmt::format("{}: unexpected argument '{}' (every value follows a flag)", path, unmatched.front());
  }
  return usage_error(fmt::format("{}\n(`{} --help` lists them)", message, path));
}

}  // namespace

std::string nearest_name(const std::string& typed, const std::vector<std::string>& candidates) {
  const std::string bare = strip_dashes(typed);
  std::string best;
  size_t best_distance = SIZE_MAX;
  for (const std::string& candidate : candidates) {
    const std::string name = strip_dashes(candidate);
    const size_t distance = edit_distance(bare, name);
    const bool is_close = distance <= std::max<size_t>(2, name.size() / 3) || shares_all_words(bare, name);
    if (is_close && distance < best_distance) {
      best = candidate;
      best_distance = distance;
    }
  }
  return best;
}

int report_parse_error(CLI::App& app, const CLI::ParseError& error) {
  // --help, --version, and a subcommand's own exit status (RuntimeError) are not usage errors.
  if (error.get_exit_code() == 0 || dynamic_cast<const CLI::RuntimeError*>(&error) != nullptr) return app.exit(error);
  CLI::App* command = deepest_subcommand(app);
  // Unmatched arguments come first: they are why a required flag or subcommand looks missing.
  const std::vector<std::string> unmatched = app.remaining(true);
  if (!unmatched.empty()) return report_unmatched(command, unmatched);
  const std::string path = command_path(command);
  const std::vector<std::string> subcommands = subcommand_names(*command);
  if (!subcommands.empty() && std::string(error.what()).find("subcommand") != std::string::npos) {
    return usage_error(fmt::format("{}: a subcommand is required: {}\n(`{} --help` describes them)", path,
                                   fmt::join(subcommands, ", "), path));
  }
  return usage_error(fmt::format("{}: {}\n(`{} --help` lists the flags and their defaults)", path, error.what(), path));
}

}  // namespace pagedllm
