// `pagedllm chat`: a terminal chat for people without a browser or an OpenAI client. Reads one message per line
// from stdin, streams each reply to stdout as the engine produces it, and keeps the conversation for the next turn.
// `/reset` starts over, `/exit` (or end of input) quits. Prompts and notes go to stderr, so stdout holds only the
// replies (one line each) when stdin is piped.
#include <unistd.h>

#include <condition_variable>
#include <cstdio>
#include <iostream>
#include <memory>
#include <mutex>

#include "cli/chat_session.h"
#include "cli/chat_template_flag.h"
#include "cli/commands.h"
#include "cli/engine_flags.h"
#include "engine/tensor_parallel_worker.h"
#include "engine/async_engine.h"
#include "util/error.h"

namespace pagedllm {
namespace {

struct ChatOptions {
  EngineFlags engine;
  SamplingParams params;
  std::string chat_template;
  std::string system_prompt;
};

struct Reply {
  std::string text;
  std::optional<FinishReason> finish_reason;
};

// Streams one reply to stdout and returns it once the engine finishes it.
Reply stream_reply(AsyncEngine& engine, const std::vector<int32_t>& prompt, const SamplingParams& params,
                   const std::string& lora, int turn) {
  std::mutex mutex;
  std::condition_variable finished;
  Reply reply;
  bool is_done = false;
  engine.add_request(fmt::format("chat-{}", turn), PromptInput{"", prompt, false}, params, OutputKind::kDelta, lora,
                     [&](const RequestOutput& out) {
                       const CompletionOutput& c = out.outputs.at(0);
                       std::fwrite(c.text.data(), 1, c.text.size(), stdout);
                       std::fflush(stdout);
                       std::lock_guard<std::mutex> lock(mutex);
                       reply.text += c.text;
                       if (out.finished) {
                         reply.finish_reason = c.finish_reason;
                         is_done = true;
                         finished.notify_one();
                       }
                     });
  std::unique_lock<std::mutex> lock(mutex);
  finished.wait(lock, [&] { return is_done; });
  return reply;
}

void run_chat(const ChatOptions& o, bool max_tokens_given) {
  const EngineArgs args = o.engine.resolve();
  if (run_tensor_parallel_worker(args)) return;
  const std::string lora = args.loras.size() == 1 ? args.loras[0].first : "";
  const std::string given_template = o.chat_template.empty() ? "" : read_chat_template_flag(o.chat_template);
  AsyncEngine engine(args);
  const std::string template_source = given_template.empty() ? engine.tokenizer().chat_template().value_or("")
                                                             : given_template;
  if (template_source.empty()) {
    engine.shutdown();
    throw_error(ErrorKind::kNotFound,
                "{}: the tokenizer has no chat template; pass --chat-template FILE (tests/fixtures/chat_templates/ "
                "holds examples, e.g. tinyllama-chat.jinja)",
                args.model);
  }
  ChatSession session(engine.tokenizer(), template_source, o.system_prompt);
  const bool is_terminal = ::isatty(STDIN_FILENO) != 0;
  std::fprintf(stderr, "pagedllm chat: %s. One message per line; /reset starts over, /exit quits.\n",
               args.model.c_str());
  std::string line;
  for (int turn = 0;; ++turn) {
    if (is_terminal) std::fputs("> ", stderr);
    if (!std::getline(std::cin, line)) break;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    if (line == "/exit" || line == "/quit") break;
    if (line == "/reset") {
      session.reset();
      std::fputs("(conversation reset)\n", stderr);
      continue;
    }
    if (line[0] == '/') {
      std::fprintf(stderr, "unknown command %s: /reset starts over, /exit quits\n", line.c_str());
      continue;
    }
    const std::vector<int32_t> prompt = session.add_user_message(line);
    const int room = engine.max_model_len() - static_cast<int>(prompt.size());
    if (room <= 0 || (max_tokens_given && o.params.max_tokens > room)) {
      session.drop_last_user_message();
      std::fprintf(stderr, "the conversation (%zu tokens) leaves no room for a reply within %d tokens; /reset starts over\n",
                   prompt.size(), engine.max_model_len());
      continue;
    }
    SamplingParams params = o.params;
    if (!max_tokens_given) params.max_tokens = room;
    const Reply reply = stream_reply(engine, prompt, params, lora, turn);
    std::fputs("\n", stdout);
    std::fflush(stdout);
    if (reply.finish_reason == FinishReason::kLength) std::fputs("(the reply stopped at its token limit)\n", stderr);
    session.add_reply(reply.text);
  }
  engine.shutdown();
}

}  // namespace

void add_chat_command(CLI::App& app) {
  auto o = std::make_shared<ChatOptions>();
  CLI::App* cmd = app.add_subcommand("chat", "chat with a model in the terminal (its chat template, streamed replies)");
  add_engine_flags(*cmd, o->engine);
  add_sampling_flags(*cmd, o->params);
  cmd->add_option("--chat-template", o->chat_template, "a Jinja chat template, as a file or inline text");
  cmd->add_option("--system", o->system_prompt, "a system message that opens the conversation");
  cmd->callback([o, cmd] { run_chat(*o, cmd->count("--max-tokens") > 0); });
}

}  // namespace pagedllm
