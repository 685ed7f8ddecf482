// Chat templates: renders a tokenizer_config.json `chat_template` exactly as Hugging Face transformers'
// apply_chat_template(tokenize=False) does, i.e. Python jinja2 in an ImmutableSandboxedEnvironment with
// trim_blocks, lstrip_blocks, the loopcontrols extension, raise_exception, strftime_now and json.dumps as tojson.
#pragma once

#include <iosfwd>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace pagedllm {

namespace jinja {
struct Stmt;
}

// JSON values are ordered_json because templates print dicts in insertion order (Python dicts), e.g.
// `tools | tojson`: parse requests with nlohmann::ordered_json to keep the client's key order. A plain
// nlohmann::json converts implicitly, with its keys sorted.
struct ChatTemplateInputs {
  nlohmann::ordered_json messages = nlohmann::ordered_json::array();
  nlohmann::ordered_json tools;  // null when absent (the template sees `tools` defined and none)
  bool add_generation_prompt = false;
  std::string bos_token, eos_token;  // an empty token is left undefined, as for a tokenizer that has none
  nlohmann::ordered_json extra = nlohmann::ordered_json::object();  // further variables (e.g. special tokens); override the above
};

// Parse once, render many; render() is const and safe to call from several threads at once.
class ChatTemplate {
 public:
  // Throws Error(kInvalidArgument) "chat template: line N: ..." for syntax errors.
  explicit ChatTemplate(const std::string& source);
  // Throws Error(kInvalidArgument) "chat template: line N: ..." for runtime errors (including unknown filters and
  // tests, reported when reached as jinja2 does inside conditionals) and raise_exception(message).
  std::string render(const ChatTemplateInputs& inputs) const;

 private:
  std::shared_ptr<const std::vector<std::unique_ptr<jinja::Stmt>>> body_;
};

std::string render_chat_template(const std::string& template_source, const ChatTemplateInputs& inputs);

// The `pagedllm chat-template` command: reads one JSON object {"messages": [...], "tools": [...]?, ...} from `in`
// (other keys become template variables) and writes {"prompt": "..."} and a newline to `out`. Returns 0; throws
// Error(kInvalidArgument) for malformed input or template errors.
int run_chat_template_command(const std::string& template_source, const std::string& bos, const std::string& eos,
                              bool add_generation_prompt, std::istream& in, std::ostream& out);

}  // namespace pagedllm
