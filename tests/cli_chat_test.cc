// `pagedllm chat` driven through a pipe: each reply is the greedy continuation of the conversation rendered by the
// chat template (checked against `chat-template` + `generate` on the same token ids), /reset forgets the
// conversation, /exit stops reading, and a model without a template is told about --chat-template.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <string>

#include "run_command.h"

namespace pagedllm {
namespace {

using testing::quote;
using testing::run_command;

const std::string kBinary = PAGEDLLM_BINARY;
const std::string kModel = PAGEDLLM_SOURCE_DIR "/models/stories260K";
const std::string kTemplate = PAGEDLLM_SOURCE_DIR "/tests/fixtures/chat_templates/tinyllama-chat.jinja";
constexpr int kMaxTokens = 12;

// stdout of `pagedllm chat` (the replies, one per line) for the given stdin lines.
testing::CommandResult chat(const std::string& input, const std::string& flags = "") {
  return run_command("printf '%s' " + quote(input) + " | " + kBinary + " chat --model " + kModel +
                     " --chat-template " + kTemplate + " --temperature 0 --max-tokens " + std::to_string(kMaxTokens) +
                     " " + flags + " 2>/dev/null");
}

// A shell command writing `text` and a newline; unlike sh's echo, printf leaves the JSON's backslashes alone.
std::string echo(const std::string& text) { return "printf '%s\\n' " + quote(text); }

// The reply the engine gives the rendered conversation, computed without `chat`: the template through
// `chat-template`, its token ids through `tokenize --no-special-tokens`, the reply through `generate`.
std::string reference_reply(const nlohmann::json& messages) {
  const std::string rendered = run_command(echo(nlohmann::json{{"messages", messages}}.dump()) + " | " +
                                           kBinary + " chat-template --tokenizer " + kModel + " --template " +
                                           kTemplate + " --add-generation-prompt")
                                   .out;
  const std::string prompt = nlohmann::json::parse(rendered)["prompt"];
  const std::string ids = run_command(echo(nlohmann::json{{"text", prompt}}.dump()) + " | " + kBinary +
                                      " tokenize --no-special-tokens --tokenizer " + kModel)
                              .out;
  const std::string prompts_file = ::testing::TempDir() + "/pagedllm_chat_reference.jsonl";
  std::ofstream(prompts_file) << nlohmann::json{{"prompt_token_ids", nlohmann::json::parse(ids)["ids"]}}.dump()
                              << "\n";
  const testing::CommandResult r =
      run_command(kBinary + " generate --model " + kModel + " --prompts-file " + prompts_file +
                  " --temperature 0 --json --max-tokens " + std::to_string(kMaxTokens) + " 2>/dev/null");
  EXPECT_EQ(r.exit_code, 0);
  return nlohmann::json::parse(r.out)["outputs"][0]["text"];
}

nlohmann::json message(const std::string& role, const std::string& content) {
  return {{"role", role}, {"content", content}};
}

// Replies may hold newlines of their own, so whole outputs are compared, not lines.
TEST(CliChat, RepliesContinueTheRenderedConversation) {
  const testing::CommandResult r = chat("Hello\nWhat next?\n/exit\n");
  ASSERT_EQ(r.exit_code, 0);
  nlohmann::json conversation = nlohmann::json::array({message("user", "Hello")});
  const std::string first = reference_reply(conversation);
  conversation.push_back(message("assistant", first));
  conversation.push_back(message("user", "What next?"));
  const std::string second = reference_reply(conversation);
  EXPECT_EQ(r.out, first + "\n" + second + "\n");
  EXPECT_NE(second, reference_reply(nlohmann::json::array({message("user", "What next?")})))
      << "the second turn must see the first";
}

TEST(CliChat, ResetForgetsTheConversation) {
  const testing::CommandResult r = chat("Hello\n/reset\nHello\n");
  ASSERT_EQ(r.exit_code, 0);
  const std::string reply = reference_reply(nlohmann::json::array({message("user", "Hello")}));
  EXPECT_EQ(r.out, reply + "\n" + reply + "\n");
}

TEST(CliChat, ExitStopsReading) {
  const testing::CommandResult r = chat("Hello\n/exit\nHello\n");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out, reference_reply(nlohmann::json::array({message("user", "Hello")})) + "\n");
}

TEST(CliChat, SystemPromptOpensTheConversation) {
  const testing::CommandResult r = chat("Hello\n", "--system 'You tell stories.'");
  ASSERT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out, reference_reply(nlohmann::json::array({message("system", "You tell stories."),
                                                           message("user", "Hello")})) +
                       "\n");
}

TEST(CliChat, UnknownSlashCommandIsExplainedAndSkipped) {
  const testing::CommandResult r = run_command("printf '/help\\n' | " + kBinary + " chat --model " + kModel +
                                               " --chat-template " + kTemplate + " 2>&1 >/dev/null");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("unknown command /help: /reset starts over, /exit quits"), std::string::npos) << r.out;
}

TEST(CliChat, ModelWithoutTemplatePointsToTheFlag) {
  const testing::CommandResult r = run_command("echo Hello | " + kBinary + " chat --model " + kModel + " 2>&1");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find(kModel + ": the tokenizer has no chat template; pass --chat-template FILE"), std::string::npos)
      << r.out;
}

}  // namespace
}  // namespace pagedllm
