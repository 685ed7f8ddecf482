#include "train/instruction_data.h"

#include <fmt/format.h>

#include <sstream>

#include "util/error.h"
#include "util/mapped_file.h"

namespace pagedllm {

const char* const kAlpacaPromptNoInput =
    "Below is an instruction that describes a task. Write a response that appropriately completes the request.\n\n"
    "### Instruction:\n{instruction}\n\n### Response: ";
const char* const kAlpacaPromptWithInput =
    "Below is an instruction that describes a task, paired with an input that provides further context. Write a "
    "response that appropriately completes the request.\n\n### Instruction:\n{instruction}\n\n### Input:\n{input}\n\n"
    "### Response: ";

namespace {

const std::string& string_field(const nlohmann::json& line, const char* key) {
  const auto it = line.find(key);
  if (it == line.end()) throw_error(ErrorKind::kInvalidArgument, "missing field \"{}\"", key);
  if (!it->is_string()) throw_error(ErrorKind::kInvalidArgument, "field \"{}\" is not a string", key);
  return it->get_ref<const std::string&>();
}

// Plain substitution: instructions may contain braces, so no format-string engine touches user text.
std::string substitute(std::string prompt, const std::string& key, const std::string& value) {
  const size_t at = prompt.find(key);
  return prompt.replace(at, key.size(), value);
}

TextExample parse_alpaca(const nlohmann::json& line) {
  const std::string& instruction = string_field(line, "instruction");
  const std::string& output = string_field(line, "output");
  std::string input;
  if (line.contains("input") && !line["input"].is_null()) input = string_field(line, "input");
  if (input.empty()) return {substitute(kAlpacaPromptNoInput, "{instruction}", instruction), output};
  return {substitute(substitute(kAlpacaPromptWithInput, "{instruction}", instruction), "{input}", input), output};
}

TextExample parse_messages(const nlohmann::json& line, const ChatTemplateFn& chat_template) {
  const nlohmann::json& messages = line["messages"];
  if (!messages.is_array() || messages.empty()) {
    throw_error(ErrorKind::kInvalidArgument, "\"messages\" is not a non-empty array");
  }
  for (const auto& m : messages) {
    if (!m.is_object()) throw_error(ErrorKind::kInvalidArgument, "a message is not an object");
    string_field(m, "role");
    string_field(m, "content");
  }
  if (messages.back()["role"] != "assistant") {
    throw_error(ErrorKind::kInvalidArgument, "the last message must have role \"assistant\" (it is the target)");
  }
  if (!chat_template) {
    throw_error(ErrorKind::kInvalidArgument,
                "\"messages\" needs a chat template: the tokenizer has none, so pass --chat-template FILE");
  }
  const std::string source = messages.size() > 1
                                 ? chat_template(nlohmann::json(std::vector<nlohmann::json>(messages.begin(),
                                                                                             messages.end() - 1)))
                                 : std::string();
  const std::string full = chat_template(messages);
  if (full.compare(0, source.size(), source) != 0) {
    throw_error(ErrorKind::kInvalidArgument,
                "the chat template renders the conversation without its last message as something other than a "
                "prefix of the whole conversation");
  }
  return {source, full.substr(source.size())};
}

}  // namespace

TextExample parse_example(const nlohmann::json& line, const ChatTemplateFn& chat_template) {
  if (!line.is_object()) throw_error(ErrorKind::kInvalidArgument, "not a JSON object");
  if (line.contains("instruction")) return parse_alpaca(line);
  if (line.contains("prompt")) return {string_field(line, "prompt"), string_field(line, "completion")};
  if (line.contains("messages")) return parse_messages(line, chat_template);
  if (line.contains("text")) return {"", string_field(line, "text")};
  throw_error(ErrorKind::kInvalidArgument,
              "no known fields (expected \"instruction\"/\"output\", \"prompt\"/\"completion\", \"messages\" or "
              "\"text\")");
}

std::vector<TextExample> parse_jsonl_examples(const std::string& contents, const std::string& path,
                                              const ChatTemplateFn& chat_template) {
  std::vector<TextExample> examples;
  std::vector<std::string> problems;
  std::istringstream stream(contents);
  std::string text;
  for (int64_t line_number = 1; std::getline(stream, text); ++line_number) {
    if (text.find_first_not_of(" \t\r") == std::string::npos) continue;
    try {
      examples.push_back(parse_example(nlohmann::json::parse(text), chat_template));
    } catch (const nlohmann::json::exception& e) {
      problems.push_back(fmt::format("{}:{}: invalid JSON ({})", path, line_number, e.what()));
    } catch (const Error& e) {
      problems.push_back(fmt::format("{}:{}: {}", path, line_number, e.what()));
    }
  }
  if (!problems.empty()) {
    throw_error(ErrorKind::kInvalidArgument, "{} bad line(s) in the data set:\n{}", problems.size(),
                fmt::join(problems, "\n"));
  }
  if (examples.empty()) throw_error(ErrorKind::kInvalidArgument, "{}: the data set has no examples", path);
  return examples;
}

std::vector<TextExample> load_jsonl_examples(const std::string& path, const ChatTemplateFn& chat_template) {
  return parse_jsonl_examples(read_text_file(path), path, chat_template);
}

}  // namespace pagedllm
