// Instruction-tuning data sets in JSON lines, one example per line, in any of four shapes:
//   {"instruction", "input"?, "output"}   Alpaca, rendered with the QLoRA repository's Alpaca prompts
//   {"prompt", "completion"}              the prompt is the source, the completion the target
//   {"messages": [{"role", "content"}...]} rendered by the model's chat template; the last message (the
//                                         assistant's) is the target, the conversation before it the source
//   {"text"}                              plain language modelling: no source, all text is target
// Loading checks every line and reports every bad one (with its 1-based line number) in one Error, so a run never
// starts on a file with errors. Blank lines are skipped.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace pagedllm {

// The text of one example: the loss covers `target` (and `source` only with --train-on-source).
struct TextExample {
  std::string source;
  std::string target;
};

// Renders a whole conversation (a JSON array of {"role", "content"} objects) with the model's chat template, without
// a generation prompt.
using ChatTemplateFn = std::function<std::string(const nlohmann::json& messages)>;

extern const char* const kAlpacaPromptNoInput;    // contains "{instruction}"
extern const char* const kAlpacaPromptWithInput;  // contains "{instruction}" and "{input}"

// One parsed line; throws Error(kInvalidArgument) describing what is wrong with it (no line number).
TextExample parse_example(const nlohmann::json& line, const ChatTemplateFn& chat_template);

// All examples of a JSONL file (or its text: the overload taking `contents` names `path` in messages only).
// Throws Error(kNotFound) if the file is missing, Error(kInvalidArgument) listing every bad line as
// "<path>:<line>: <problem>", or if there is no example at all. chat_template may be empty if no line uses
// "messages" (a line that does is then reported as bad).
std::vector<TextExample> load_jsonl_examples(const std::string& path, const ChatTemplateFn& chat_template);
std::vector<TextExample> parse_jsonl_examples(const std::string& contents, const std::string& path,
                                              const ChatTemplateFn& chat_template);

}  // namespace pagedllm
