// `pagedllm tokenize | detokenize | chat-template`: scriptable JSON-lines front ends of the tokenizer and the
// chat-template renderer (conformance tests drive them).
#include <iostream>
#include <memory>

#include "cli/commands.h"
#include "tokenizer/chat_template.h"
#include "cli/tokenize_command.h"
#include "tokenizer/tokenizer.h"
#include "util/error.h"
#include "util/mapped_file.h"

namespace pagedllm {
namespace {

struct TokenizerOptions {
  std::string tokenizer;
  std::string template_file;
  bool no_special_tokens = false;
  bool skip_special_tokens = false;
  bool add_generation_prompt = false;
};

void run_chat_template(const TokenizerOptions& o) {
  std::unique_ptr<Tokenizer> tokenizer = Tokenizer::from_path(o.tokenizer);
  std::string source;
  if (!o.template_file.empty()) {
    source = read_text_file(o.template_file);
  } else if (auto t = tokenizer->chat_template()) {
    source = *t;
  } else {
    throw_error(ErrorKind::kNotFound, "{}: the tokenizer has no chat_template; pass --template FILE", o.tokenizer);
  }
  int rc = run_chat_template_command(source, tokenizer->bos_token(), tokenizer->eos_token(), o.add_generation_prompt, std::cin, std::cout);
  if (rc != 0) throw_error(ErrorKind::kInvalidArgument, "chat-template failed");
}

}  // namespace

void add_tokenizer_commands(CLI::App& app) {
  auto o = std::make_shared<TokenizerOptions>();
  CLI::App* tok = app.add_subcommand("tokenize", "JSON lines {\"text\"} on stdin -> {\"ids\", \"tokens\"} on stdout");
  tok->add_option("--tokenizer", o->tokenizer, "model folder or tokenizer.json")->required();
  tok->add_flag("--no-special-tokens", o->no_special_tokens, "do not add BOS/EOS and other template tokens");
  tok->callback([o] {
    if (run_tokenize_command(o->tokenizer, !o->no_special_tokens, std::cin, std::cout) != 0) {
      throw_error(ErrorKind::kInvalidArgument, "tokenize failed");
    }
  });

  CLI::App* detok = app.add_subcommand("detokenize", "JSON lines {\"ids\"} on stdin -> {\"text\"} on stdout");
  detok->add_option("--tokenizer", o->tokenizer, "model folder or tokenizer.json")->required();
  detok->add_flag("--skip-special-tokens", o->skip_special_tokens, "leave special tokens out of the text");
  detok->callback([o] {
    if (run_detokenize_command(o->tokenizer, o->skip_special_tokens, std::cin, std::cout) != 0) {
      throw_error(ErrorKind::kInvalidArgument, "detokenize failed");
    }
  });

  CLI::App* chat = app.add_subcommand("chat-template", "render {\"messages\", \"tools\"?} on stdin -> {\"prompt\"}");
  chat->add_option("--tokenizer", o->tokenizer, "model folder (its tokenizer_config.json chat_template)")->required();
  chat->add_option("--template", o->template_file, "a Jinja template file instead of the tokenizer's");
  chat->add_flag("--add-generation-prompt", o->add_generation_prompt);
  chat->callback([o] { run_chat_template(*o); });
}

}  // namespace pagedllm
